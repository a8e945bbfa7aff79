import MySQLSink
import PipelineCore
import XCTest

/// Connect schema to MySQL DDL: the type mapping, quoting, and the real
/// server accepting what we generate.
final class TableDDLTests: XCTestCase {
    func testTypeMappingMatchesConnectJDBCForMySQL() throws {
        let expected: [(Schema, Bool, String)] = [
            (.int8, false, "TINYINT"), (.int16, false, "SMALLINT"), (.int32, false, "INT"), (.int64, false, "BIGINT"),
            (.float32, false, "FLOAT"), (.float64, false, "DOUBLE"), (.boolean, false, "TINYINT(1)"),
            (.string, false, "TEXT"), (.string, true, "VARCHAR(256)"), (.bytes, false, "BLOB"), (.bytes, true, "VARBINARY(1024)"),
            (LogicalType.decimal(scale: 2, precision: 10), false, "DECIMAL(10,2)"),
            (LogicalType.decimal(scale: 4), false, "DECIMAL(65,4)"),
            (LogicalType.decimal(scale: 2, precision: 90), false, "DECIMAL(65,2)"),
            (LogicalType.timestamp(), false, "DATETIME(3)"), (LogicalType.date(), false, "DATE"), (LogicalType.time(), false, "TIME(3)"),
        ]
        for (schema, key, type) in expected {
            XCTAssertEqual(try MySQLTypeMapping.sqlType(for: schema, isPrimaryKey: key), type, "\(schema.type) key=\(key)")
        }
        XCTAssertThrowsError(try MySQLTypeMapping.sqlType(for: .array(.int32)))
    }

    func testIdentifiersAreAlwaysOneQuotedName() throws {
        XCTAssertEqual(SQLIdentifier.quote("a`b; DROP TABLE x"), "`a``b; DROP TABLE x`")
        // A backtick followed by a combining accent is one Character but still a backtick.
        XCTAssertEqual(SQLIdentifier.quote("x`\u{301}y"), "`x``\u{301}y`")
        XCTAssertEqual(try TableRef(parsing: "db.t").sql, "`db`.`t`")
        XCTAssertThrowsError(try TableRef(parsing: "a.b.c"))
        XCTAssertThrowsError(try TableRef(parsing: String(repeating: "x", count: 65)))
    }

    func testCreateStatementHasKeyNullabilityAndDefaults() throws {
        var withDefault = Schema.string
        withDefault.defaultValue = .string("it's")
        let sql = try TableDDL.create(TableRef(name: "t"), columns: [
            ColumnSpec(name: "id", schema: .int64, isPrimaryKey: true),
            ColumnSpec(name: "name", schema: Schema.string.asOptional),
            ColumnSpec(name: "kind", schema: withDefault),
        ])
        XCTAssertEqual(sql, """
            CREATE TABLE IF NOT EXISTS `t` (
              `id` BIGINT NOT NULL,
              `name` TEXT NULL,
              `kind` TEXT NOT NULL DEFAULT CONVERT(X'69742773' USING utf8mb4),
              PRIMARY KEY(`id`)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
            """)
    }

    func testAutoCreateEvolveAndIncompatibleChangesOnTheServer() async throws {
        let env = try MySQLTestEnvironment.load()
        let (db, options) = try await env.freshDatabase()
        let connection = MySQLConnection(options: options)
        let catalog = TableCatalog(connection: connection, autoCreate: true, autoEvolve: true)
        let table = try TableRef(parsing: "a`b; DROP TABLE x")
        var greeting = Schema.string
        greeting.defaultValue = .string("hello 'world'")
        let v1 = [
            ColumnSpec(name: "id", schema: .string, isPrimaryKey: true),
            ColumnSpec(name: "n", schema: .int32),
            ColumnSpec(name: "when", schema: LogicalType.timestamp()),
            ColumnSpec(name: "price", schema: LogicalType.decimal(scale: 2, precision: 12, optional: true)),
            ColumnSpec(name: "greeting", schema: greeting),
        ]
        try await catalog.ensure(table, columns: v1)
        var columns = try await catalog.columns(of: table)
        XCTAssertEqual(columns.map(\.name), ["id", "n", "when", "price", "greeting"])
        XCTAssertEqual(columns.map(\.columnType), ["varchar(256)", "int(11)", "datetime(3)", "decimal(12,2)", "text"])
        XCTAssertEqual(columns.map(\.isNullable), [false, false, false, true, false])

        // The default literal really is the text, quotes and all.
        try await connection.execute("INSERT INTO \(table.sql) (id, n, `when`) VALUES (?, ?, ?)", [.text("k"), .int(1), .datetime(milliseconds: 0)])
        let greetingRows = try await connection.query("SELECT greeting FROM \(table.sql)")
        XCTAssertEqual(greetingRows, [["hello 'world'"]])

        // auto.evolve adds a new optional field as a NULL column.
        let v2 = v1 + [ColumnSpec(name: "email", schema: Schema.string.asOptional)]
        try await catalog.ensure(table, columns: v2)
        columns = try await catalog.columns(of: table)
        XCTAssertEqual(columns.last, ExistingColumn(name: "email", dataType: "text", columnType: "text", isNullable: true))

        // A new required field without a default cannot be added.
        do {
            try await catalog.ensure(table, columns: v2 + [ColumnSpec(name: "age", schema: .int32)])
            XCTFail("adding a required column must fail")
        } catch let error as SchemaError {
            XCTAssertEqual(error.column, "age")
            XCTAssertEqual(error.table, table.sql)
        }
        // A type change is an error naming the column.
        do {
            try await catalog.ensure(table, columns: [ColumnSpec(name: "id", schema: .string, isPrimaryKey: true), ColumnSpec(name: "n", schema: .string)])
            XCTFail("a type change must fail")
        } catch let error as SchemaError {
            XCTAssertEqual(error.column, "n")
            XCTAssertTrue(error.description.contains("INT(11)"), error.description)
        }
        // Widening is fine: int16 values fit the INT column.
        try await catalog.ensure(table, columns: [ColumnSpec(name: "id", schema: .string, isPrimaryKey: true), ColumnSpec(name: "n", schema: .int16)])

        // The table named like an injection exists, nothing else was touched.
        let tables = try await connection.query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
        XCTAssertEqual(tables, [["a`b; DROP TABLE x"]])
        await connection.close()
        await env.dropDatabase(db)
    }

    func testNoAutoCreateOrEvolveIsAClearError() async throws {
        let env = try MySQLTestEnvironment.load()
        let (db, options) = try await env.freshDatabase()
        let connection = MySQLConnection(options: options)
        let catalog = TableCatalog(connection: connection, autoCreate: false, autoEvolve: false)
        let table = TableRef(name: "users")
        do {
            try await catalog.ensure(table, columns: [ColumnSpec(name: "id", schema: .int32)])
            XCTFail("missing table must fail")
        } catch let error as SchemaError {
            XCTAssertTrue(error.description.contains("auto.create"), error.description)
        }
        try await connection.execute("CREATE TABLE users (id INT)")
        do {
            try await catalog.ensure(table, columns: [ColumnSpec(name: "id", schema: .int32), ColumnSpec(name: "x", schema: Schema.int32.asOptional)])
            XCTFail("missing column must fail")
        } catch let error as SchemaError {
            XCTAssertEqual(error.column, "x")
            XCTAssertTrue(error.description.contains("auto.evolve"), error.description)
        }
        await connection.close()
        await env.dropDatabase(db)
    }
}
