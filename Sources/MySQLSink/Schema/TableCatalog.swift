import Logging
import PipelineCore

/// Makes sure tables exist and have the columns records need, creating
/// (`auto.create`) and widening (`auto.evolve`) them as Kafka Connect's JDBC
/// sink does, and remembers what it has checked so a batch with known
/// schemas costs no query.
public actor TableCatalog {
    private let connection: MySQLConnection
    private let autoCreate: Bool
    private let autoEvolve: Bool
    private let logger: Logger
    /// Column sets already known to fit each table.
    private var verified: [TableRef: Set<[ColumnSpec]>] = [:]
    /// Key column sets known to exist, for deletes.
    private var verifiedDeletes: [TableRef: Set<[ColumnSpec]>] = [:]

    /// A catalog that runs DDL over `connection` as `auto.create` and `auto.evolve` allow.
    public init(connection: MySQLConnection, autoCreate: Bool, autoEvolve: Bool, logger: Logger = Logger(label: "tributary.mysql")) {
        self.connection = connection
        self.autoCreate = autoCreate
        self.autoEvolve = autoEvolve
        self.logger = logger
    }

    /// Forgets what is known about `table` (after an error that suggests it
    /// changed underneath us), or about every table.
    public func invalidate(_ table: TableRef? = nil) {
        if let table {
            verified[table] = nil
            verifiedDeletes[table] = nil
        } else {
            verified.removeAll()
            verifiedDeletes.removeAll()
        }
    }

    /// Ensures `table` can take rows with `columns`. Runs DDL, which commits
    /// implicitly in MySQL, so it must never be called inside a transaction.
    /// Throws ``SchemaError`` naming the table and column when it cannot.
    public func ensure(_ table: TableRef, columns: [ColumnSpec]) async throws {
        if verified[table]?.contains(columns) == true { return }
        var existing = try await self.columns(of: table)
        if existing.isEmpty {
            guard autoCreate else {
                throw SchemaError(table: table.sql, column: nil, reason: "table does not exist and auto.create is false")
            }
            logger.info("creating table", metadata: ["table": "\(table)"])
            try await connection.execute(try TableDDL.create(table, columns: columns))
            existing = try await self.columns(of: table)
        }
        var missing = try plan(table, existing: existing, columns: columns)
        if !missing.isEmpty {
            logger.info("adding columns", metadata: ["table": "\(table)", "columns": "\(missing.map(\.name))"])
            do {
                try await connection.execute(try TableDDL.addColumns(table, columns: missing))
            } catch let error as MySQLError where error.code == 1060 /* ER_DUP_FIELDNAME */ {
                // Another sink added them first; check again below.
            }
            missing = try plan(table, existing: try await self.columns(of: table), columns: columns)
            guard missing.isEmpty else {
                throw SchemaError(table: table.sql, column: missing[0].name, reason: "column is still missing after ALTER TABLE")
            }
        }
        verified[table, default: []].insert(columns)
    }

    /// Checks that `table` has the key columns a delete needs. Returns false
    /// when the table does not exist (so there is nothing to delete); never
    /// creates or alters anything.
    public func ensureForDelete(_ table: TableRef, keys: [ColumnSpec]) async throws -> Bool {
        if verifiedDeletes[table]?.contains(keys) == true { return true }
        let existing = try await columns(of: table)
        if existing.isEmpty { return false }
        var byName: [String: ExistingColumn] = [:]
        for column in existing { byName[column.name.lowercased()] = column }
        for key in keys {
            guard let found = byName[key.name.lowercased()] else {
                throw SchemaError(table: table.sql, column: key.name, reason: "a delete needs this key column, which the table does not have")
            }
            if let problem = found.incompatibility(with: key.schema) {
                throw SchemaError(table: table.sql, column: key.name, reason: problem)
            }
        }
        verifiedDeletes[table, default: []].insert(keys)
        return true
    }

    /// The columns to add, after checking that the existing ones fit.
    func plan(_ table: TableRef, existing: [ExistingColumn], columns: [ColumnSpec]) throws(SchemaError) -> [ColumnSpec] {
        var byName: [String: ExistingColumn] = [:]
        for column in existing { byName[column.name.lowercased()] = column }  // MySQL column names ignore case
        var missing: [ColumnSpec] = []
        for column in columns {
            if let found = byName[column.name.lowercased()] {
                if let problem = found.incompatibility(with: column.schema) {
                    throw SchemaError(table: table.sql, column: column.name, reason: problem)
                }
                continue
            }
            guard autoEvolve else {
                throw SchemaError(table: table.sql, column: column.name, reason: "column does not exist and auto.evolve is false")
            }
            guard column.schema.optional || column.schema.defaultValue != nil else {
                throw SchemaError(table: table.sql, column: column.name, reason: "cannot add a required column without a default value to an existing table; make the field optional or give it a default")
            }
            guard !column.isPrimaryKey else {
                throw SchemaError(table: table.sql, column: column.name, reason: "the primary key of an existing table cannot be changed by auto.evolve")
            }
            missing.append(column)
        }
        return missing
    }

    /// The table's columns in order; empty when the table does not exist.
    public func columns(of table: TableRef) async throws -> [ExistingColumn] {
        // information_schema compares names case-insensitively; the BINARY
        // comparison keeps `Users` and `users` apart, as MySQL on Linux does.
        let rows = try await connection.query(
            """
            SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, NUMERIC_SCALE FROM information_schema.COLUMNS
            WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND BINARY TABLE_NAME = BINARY ?
            ORDER BY ORDINAL_POSITION
            """,
            [table.database.map { .text($0) } ?? .null, .text(table.name), .text(table.name)])
        return rows.map { row in
            ExistingColumn(
                name: row[0] ?? "", dataType: row[1] ?? "", columnType: row[2] ?? "", isNullable: row[3] == "YES",
                scale: row[4].flatMap { Int($0) })
        }
    }
}
