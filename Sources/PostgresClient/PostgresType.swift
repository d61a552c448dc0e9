import CLibPQ

/// A PostgreSQL data type, by its OID (`pg_type.oid`) and name. Built-in
/// types' OIDs are fixed across versions; the layer needs only these.
public struct PostgresType: Hashable, Sendable, CustomStringConvertible {
    public var oid: Oid
    public var name: String

    public init(oid: Oid, name: String) {
        self.oid = oid
        self.name = name
    }

    public var description: String { "\(name) (oid \(oid))" }

    /// Lets the server infer the type from context, as for a literal.
    public static let unknown = PostgresType(oid: 0, name: "unknown")
    public static let bool = PostgresType(oid: 16, name: "boolean")
    public static let bytea = PostgresType(oid: 17, name: "bytea")
    public static let name = PostgresType(oid: 19, name: "name")
    public static let int8 = PostgresType(oid: 20, name: "bigint")
    public static let int2 = PostgresType(oid: 21, name: "smallint")
    public static let int4 = PostgresType(oid: 23, name: "integer")
    public static let text = PostgresType(oid: 25, name: "text")
    public static let oid = PostgresType(oid: 26, name: "oid")
    public static let json = PostgresType(oid: 114, name: "json")
    public static let float4 = PostgresType(oid: 700, name: "real")
    public static let float8 = PostgresType(oid: 701, name: "double precision")
    public static let bpchar = PostgresType(oid: 1042, name: "character")
    public static let varchar = PostgresType(oid: 1043, name: "character varying")
    public static let date = PostgresType(oid: 1082, name: "date")
    public static let timestamp = PostgresType(oid: 1114, name: "timestamp without time zone")
    public static let timestamptz = PostgresType(oid: 1184, name: "timestamp with time zone")
    public static let interval = PostgresType(oid: 1186, name: "interval")
    public static let numeric = PostgresType(oid: 1700, name: "numeric")
    public static let uuid = PostgresType(oid: 2950, name: "uuid")
    public static let jsonb = PostgresType(oid: 3802, name: "jsonb")

    public static let boolArray = PostgresType(oid: 1000, name: "boolean[]")
    public static let byteaArray = PostgresType(oid: 1001, name: "bytea[]")
    public static let int2Array = PostgresType(oid: 1005, name: "smallint[]")
    public static let int4Array = PostgresType(oid: 1007, name: "integer[]")
    public static let textArray = PostgresType(oid: 1009, name: "text[]")
    public static let varcharArray = PostgresType(oid: 1015, name: "character varying[]")
    public static let int8Array = PostgresType(oid: 1016, name: "bigint[]")
    public static let float4Array = PostgresType(oid: 1021, name: "real[]")
    public static let float8Array = PostgresType(oid: 1022, name: "double precision[]")
    public static let timestamptzArray = PostgresType(oid: 1185, name: "timestamp with time zone[]")
    public static let numericArray = PostgresType(oid: 1231, name: "numeric[]")
    public static let uuidArray = PostgresType(oid: 2951, name: "uuid[]")
    public static let jsonbArray = PostgresType(oid: 3807, name: "jsonb[]")
    public static let jsonArray = PostgresType(oid: 199, name: "json[]")

    static let known: [Oid: PostgresType] = {
        let all: [PostgresType] = [
            .bool, .bytea, .name, .int8, .int2, .int4, .text, .oid, .json, .float4, .float8, .bpchar,
            .varchar, .date, .timestamp, .timestamptz, .interval, .numeric, .uuid, .jsonb,
            .boolArray, .byteaArray, .int2Array, .int4Array, .textArray, .varcharArray, .int8Array,
            .float4Array, .float8Array, .timestamptzArray, .numericArray, .uuidArray, .jsonbArray, .jsonArray,
        ]
        return Dictionary(uniqueKeysWithValues: all.map { ($0.oid, $0) })
    }()

    /// The type for an OID seen in a result; unknown OIDs keep their number.
    static func of(oid: Oid) -> PostgresType {
        known[oid] ?? PostgresType(oid: oid, name: "type \(oid)")
    }

    /// Element type → array type, for binding Swift arrays.
    static let arrayOf: [Oid: PostgresType] = [
        bool.oid: boolArray, bytea.oid: byteaArray, int2.oid: int2Array, int4.oid: int4Array,
        text.oid: textArray, varchar.oid: varcharArray, int8.oid: int8Array, float4.oid: float4Array,
        float8.oid: float8Array, timestamptz.oid: timestamptzArray, numeric.oid: numericArray,
        uuid.oid: uuidArray, jsonb.oid: jsonbArray, json.oid: jsonArray,
        // A String binds as `unknown` (so the server can infer uuid, enum...),
        // but an array of them needs a concrete type: text[].
        unknown.oid: textArray,
    ]

    /// Array type → element type, for decoding arrays.
    static let elementOf: [Oid: PostgresType] = {
        var map = Dictionary(uniqueKeysWithValues: arrayOf.filter { $0.key != 0 }.map { ($0.value.oid, of(oid: $0.key)) })
        map[textArray.oid] = .text
        return map
    }()
}
