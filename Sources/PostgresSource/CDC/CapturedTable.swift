import PipelineCore

/// A table whose changes are captured, as the latest Relation message (or
/// the snapshot's catalog read) described it, with its change-event schemas.
struct CapturedTable: Sendable {
    let relation: Relation
    let topic: String
    let columns: [CapturedColumn]
    /// Per column, the kind its text is written as (nil: an array column,
    /// see ``CapturedColumn/write(_:to:)``): read per cell without copying the column.
    let scalarKinds: [ColumnReader.Kind?]
    /// Indexes of the key columns (the primary key, else the replica identity index); empty: no key.
    let keyIndexes: [Int]
    let keySchema: Schema?
    /// `<prefix>.<schema>.<table>`: the Value, Key and Envelope schema names start with it.
    let schemaPrefix: String

    var label: String { "\(relation.namespace).\(relation.name)" }

    /// - Parameter primaryKey: the table's primary key columns from the
    ///   catalog; pgoutput's key flags mark the replica identity, which is
    ///   every column under REPLICA IDENTITY FULL.
    init(relation: Relation, primaryKey: [String], topicPrefix: String, decimalMode: PostgresCDCConfig.DecimalMode) {
        self.relation = relation
        schemaPrefix = "\(topicPrefix).\(relation.namespace).\(relation.name)"
        topic = CapturedTable.topicName(schemaPrefix)
        let label = "\(relation.namespace).\(relation.name)"
        columns = relation.columns.map { CapturedColumn($0, decimalMode: decimalMode, table: label) }
        scalarKinds = columns.map { $0.elementKind == nil ? $0.kind : nil }
        var keys = primaryKey.compactMap { name in relation.columns.firstIndex { $0.name == name } }
        if keys.isEmpty && relation.replicaIdentity == UInt8(ascii: "i") {
            keys = relation.columns.indices.filter { relation.columns[$0].isKey }
        }
        keyIndexes = keys
        let columns = self.columns
        keySchema = keys.isEmpty ? nil : .struct("\(schemaPrefix).Key", keys.map { Field(columns[$0].name, Schema(type: columns[$0].schema.type, name: columns[$0].schema.name, version: columns[$0].schema.version, parameters: columns[$0].schema.parameters)) })
    }

    func conversionError(_ column: CapturedColumn, _ bytes: some Collection<UInt8>) -> PostgresError {
        .conversion(table: label, column: column.name, reason: "cannot read '\(String(decoding: bytes.prefix(64), as: UTF8.self))' as \(column.elementKind == nil ? column.schema.name ?? column.schema.type.rawValue : "a one-dimensional array of \(column.schema.valueSchema?.name ?? column.schema.valueSchema?.type.rawValue ?? "?")")")
    }

    /// `name` with every character Kafka does not allow in topic names
    /// replaced by `_`, as Debezium does (a table named `order lines` goes to `….order_lines`).
    static func topicName(_ name: String) -> String {
        String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
    }
}
