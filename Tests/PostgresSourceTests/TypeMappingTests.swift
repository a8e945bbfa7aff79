import PipelineCore
import XCTest

@testable import PostgresSource

final class TypeMappingTests: XCTestCase {
    func testEveryMappedTypeRoundTripsThroughTheTopic() async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("types")
        let quoted = SQL.quote(table)
        let mood = TestEnvironment.uniqueName("mood")
        try await h.pg.query("CREATE TYPE \(SQL.quote(mood)) AS ENUM ('sad', 'happy')")
        try await h.pg.query("""
            CREATE TABLE \(quoted) (
              id serial PRIMARY KEY, i2 int2, i4 int4, i8 int8, n numeric(10,3), nu numeric, f4 float4, f8 float8, b bool,
              t text, vc varchar(10), c char(4), d date, tm time, ts timestamp, tz timestamptz, u uuid, j json, jb jsonb,
              by bytea, e \(SQL.quote(mood)), iv interval, ip inet, req text NOT NULL DEFAULT 'r')
            """)
        try await h.pg.query("""
            INSERT INTO \(quoted) (i2, i4, i8, n, nu, f4, f8, b, t, vc, c, d, tm, ts, tz, u, j, jb, by, e, iv, ip) VALUES
            (-5, 2147483647, -9223372036854775808, 1234.567, 3.14159265358979323846, 1.5, -2.25e10, true, 'héllo ✓', 'abc', 'ab',
             '2024-02-29', '13:14:15.678', '2024-02-29 13:14:15.678901', '2024-02-29 13:14:15.678901+02',
             'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": 1}', '{"b": [1, 2]}', '\\x00ff10', 'happy', '1 day 02:00:00', '192.168.0.1/24')
            """)
        try await h.pg.query("INSERT INTO \(quoted) DEFAULT VALUES")
        let task = h.start(try h.source(["mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": table]))
        try await h.eventually("2 rows") { h.delivered() >= 2 }
        try await h.stop(task)
        let records = try await h.consume(h.topicPrefix + table, count: 2)
        let full = records.first { $0.int("id") == 1 }!, empty = records.first { $0.int("id") == 2 }!
        let schema = full.value!.schema!
        func type(_ field: String) -> String { let s = schema.field(named: field)!.schema; return s.name ?? s.type.rawValue }

        XCTAssertEqual(schema.name, table)
        XCTAssertEqual(
            ["i2", "i4", "i8", "n", "nu", "f4", "f8", "b", "t", "d", "tm", "ts", "tz", "u", "jb", "by", "e", "iv", "ip"].map(type),
            ["int16", "int32", "int64", LogicalType.decimalName, "string", "float", "double", "boolean", "string", LogicalType.dateName,
             LogicalType.timeName, LogicalType.timestampName, LogicalType.timestampName, "string", "string", "bytes", "string", "string", "string"])
        XCTAssertEqual(schema.field(named: "n")!.schema.decimalScale, 3)
        XCTAssertEqual(schema.field(named: "n")!.schema.decimalPrecision, 10)
        XCTAssertFalse(schema.field(named: "id")!.schema.optional)
        XCTAssertFalse(schema.field(named: "req")!.schema.optional)
        XCTAssertTrue(schema.field(named: "i2")!.schema.optional)

        let v = full.value!.value
        XCTAssertEqual(v[field: "i2"], .int(-5))
        XCTAssertEqual(v[field: "i4"], .int(2_147_483_647))
        XCTAssertEqual(v[field: "i8"], .int(.min))
        XCTAssertEqual(v[field: "n"], .decimal(DecimalValue("1234.567")!))
        XCTAssertEqual(v[field: "nu"], .string("3.14159265358979323846"))
        XCTAssertEqual(v[field: "f4"], .double(1.5))
        XCTAssertEqual(v[field: "f8"], .double(-2.25e10))
        XCTAssertEqual(v[field: "b"], .bool(true))
        XCTAssertEqual(v[field: "t"], .string("héllo ✓"))
        XCTAssertEqual(v[field: "vc"], .string("abc"))
        XCTAssertEqual(v[field: "c"], .string("ab  "))
        XCTAssertEqual(v[field: "d"], .date(19_782))
        XCTAssertEqual(v[field: "tm"], .time(47_655_678))
        XCTAssertEqual(v[field: "ts"], .timestamp(1_709_212_455_678))
        XCTAssertEqual(v[field: "tz"], .timestamp(1_709_212_455_678 - 7_200_000))
        XCTAssertEqual(v[field: "u"], .string("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))
        XCTAssertEqual(v[field: "j"], .string("{\"a\": 1}"))
        XCTAssertEqual(v[field: "jb"], .string("{\"b\": [1, 2]}"))
        XCTAssertEqual(v[field: "by"], .bytes([0, 255, 16]))
        XCTAssertEqual(v[field: "e"], .string("happy"))
        XCTAssertEqual(v[field: "iv"], .string("1 day 02:00:00"))
        XCTAssertEqual(v[field: "ip"], .string("192.168.0.1/24"))
        // NULLs arrive as nulls in optional fields.
        let nulls = empty.value!.value
        for field in ["i2", "n", "nu", "f4", "b", "t", "d", "tm", "ts", "tz", "u", "jb", "by", "e"] {
            XCTAssertEqual(nulls[field: field], .null, field)
        }
        XCTAssertEqual(nulls[field: "req"], .string("r"))
        try await h.pg.query("DROP TABLE \(quoted)")
        try await h.pg.query("DROP TYPE \(SQL.quote(mood))")
        await h.close()
    }

    func testNumericMappingBestFit() async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("numeric")
        try await h.pg.query("CREATE TABLE \(SQL.quote(table)) (id serial PRIMARY KEY, small numeric(4,0), money numeric(12,2), huge numeric(30,5))")
        try await h.pg.query("INSERT INTO \(SQL.quote(table)) (small, money, huge) VALUES (42, 19.99, 123456789012345678901234.5)")
        let task = h.start(try h.source(["mode": "bulk", "table.whitelist": table, "numeric.mapping": "best_fit"]))
        try await h.eventually("the row") { h.delivered() >= 1 }
        try await h.stop(task)
        let record = try await h.consume(h.topicPrefix + table, count: 1)[0]
        XCTAssertEqual(record.value?.schema?.field(named: "small")?.schema.type, .int16)
        XCTAssertEqual(record.value?.value[field: "small"], .int(42))
        XCTAssertEqual(record.value?.value[field: "money"], .double(19.99))
        XCTAssertEqual(record.value?.value[field: "huge"], .decimal(DecimalValue("123456789012345678901234.50000")!))
        await h.close()
    }
}
