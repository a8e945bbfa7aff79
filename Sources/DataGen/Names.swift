/// Word lists for people. ASCII letters only: emails are built from them,
/// and uniqueness of emails relies on names containing no digits.
enum Names {
    static let first: [String] = [
        "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
        "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
        "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Sandra", "Mark", "Margaret",
        "Donald", "Ashley", "Steven", "Kimberly", "Andrew", "Emily", "Paul", "Donna", "Joshua", "Michelle",
        "Kenneth", "Carol", "Kevin", "Amanda", "Brian", "Melissa", "George", "Deborah", "Timothy", "Stephanie",
        "Ronald", "Dorothy", "Jason", "Rebecca", "Edward", "Sharon", "Jeffrey", "Laura", "Ryan", "Cynthia",
        "Jacob", "Amy", "Gary", "Kathleen", "Nicholas", "Angela", "Eric", "Shirley", "Jonathan", "Brenda",
        "Stephen", "Emma", "Larry", "Anna", "Justin", "Pamela", "Scott", "Nicole", "Brandon", "Samantha",
        "Benjamin", "Katherine", "Samuel", "Christine", "Gregory", "Helen", "Alexander", "Debra", "Patrick", "Rachel",
        "Frank", "Carolyn", "Raymond", "Janet", "Jack", "Maria", "Dennis", "Olivia", "Jerry", "Heather",
        "Tyler", "Diane", "Aaron", "Julie", "Jose", "Joyce", "Adam", "Victoria", "Nathan", "Ruth",
        "Henry", "Virginia", "Zachary", "Lauren", "Douglas", "Kelly", "Peter", "Christina", "Kyle", "Joan",
        "Noah", "Evelyn", "Ethan", "Judith", "Jeremy", "Andrea", "Walter", "Hannah", "Christian", "Megan",
        "Keith", "Cheryl", "Roger", "Jacqueline", "Terry", "Martha", "Austin", "Madison", "Sean", "Teresa",
        "Gerald", "Gloria", "Carl", "Sara", "Harold", "Janice", "Dylan", "Ann", "Arthur", "Kathryn",
        "Lawrence", "Abigail", "Jordan", "Sophia", "Jesse", "Frances", "Bryan", "Jean", "Billy", "Alice",
        "Bruce", "Judy", "Gabriel", "Isabella", "Joe", "Julia", "Logan", "Grace", "Alan", "Amber",
        "Juan", "Denise", "Albert", "Danielle", "Willie", "Marilyn", "Elijah", "Beverly", "Wayne", "Charlotte",
        "Randy", "Natalie", "Vincent", "Theresa", "Mason", "Diana", "Roy", "Brittany", "Ralph", "Doris",
        "Bobby", "Kayla", "Russell", "Alexis", "Bradley", "Lori", "Philip", "Marie", "Eugene", "Mia",
    ]

    static let last: [String] = [
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
        "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
        "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
        "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
        "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
        "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes",
        "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper",
        "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson",
        "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
        "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez",
        "Powell", "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes",
        "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan", "Patterson", "Alexander", "Hamilton", "Graham",
        "Reynolds", "Griffin", "Wallace", "Moreno", "West", "Cole", "Hayes", "Bryant", "Herrera", "Gibson",
        "Ellis", "Tran", "Medina", "Aguilar", "Stevens", "Murray", "Ford", "Castro", "Marshall", "Owens",
        "Harrison", "Fernandez", "Mcdonald", "Woods", "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen",
        "Freeman", "Webb", "Tucker", "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter",
        "Gordon", "Mendez", "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Munoz", "Hunt", "Hicks",
        "Holmes", "Palmer", "Wagner", "Black", "Robertson", "Boyd", "Rose", "Stone", "Salazar", "Fox",
        "Warren", "Mills", "Meyer", "Rice", "Schmidt", "Garza", "Daniels", "Ferguson", "Nichols", "Stephens",
        "Soto", "Weaver", "Ryan", "Gardner", "Payne", "Grant", "Dunn", "Kelley", "Spencer", "Hawkins",
    ]

    /// Lower-case forms for emails, computed once.
    static let firstLower: [String] = first.map { $0.lowercased() }
    static let lastLower: [String] = last.map { $0.lowercased() }

    static let emailDomains: [String] = [
        "example.com", "example.org", "example.net", "mail.example", "inbox.example",
        "post.example", "webmail.example", "users.example", "corp.example", "home.example",
    ]

    static let jobs: [String] = [
        "Accountant", "Actuary", "Administrator", "Aerospace engineer", "Air traffic controller", "Architect",
        "Archivist", "Art director", "Audiologist", "Baker", "Biochemist", "Biomedical engineer",
        "Bookkeeper", "Building surveyor", "Buyer", "Carpenter", "Chef", "Chemical engineer",
        "Chief executive officer", "Civil engineer", "Clinical psychologist", "Copywriter", "Counsellor", "Data scientist",
        "Database administrator", "Dentist", "Designer", "Dietitian", "Economist", "Editor",
        "Electrician", "Environmental consultant", "Event organiser", "Farm manager", "Financial analyst", "Firefighter",
        "Geologist", "Graphic designer", "Historian", "Hotel manager", "Illustrator", "Insurance broker",
        "Interpreter", "Journalist", "Landscape architect", "Lawyer", "Librarian", "Logistics manager",
        "Marketing manager", "Mechanical engineer", "Midwife", "Musician", "Network engineer", "Nurse",
        "Occupational therapist", "Optometrist", "Paramedic", "Pharmacist", "Photographer", "Physicist",
        "Physiotherapist", "Pilot", "Plumber", "Police officer", "Product manager", "Programmer",
        "Project manager", "Radiographer", "Research scientist", "Sales executive", "Social worker", "Software engineer",
        "Statistician", "Surveyor", "Systems analyst", "Teacher", "Technical writer", "Translator",
        "Veterinary surgeon", "Web developer",
    ]

    static let companySuffixes: [String] = ["Inc", "LLC", "Ltd", "Group", "PLC", "and Sons", "Partners", "Holdings"]
}
