// The unpickler's working objects: lists, dicts and sets stay mutable (APPEND after BINPUT must reach the
// memoized object), and are frozen into `PickleValue` trees at STOP.

/// A mutable list or set under construction.
final class PickleListBox {
    var items: [PickleNode] = []
}

/// A mutable dict under construction, in insertion order; a repeated key replaces the value in place.
final class PickleDictBox {
    var keys: [PickleValue] = []
    var values: [PickleNode] = []
    fileprivate var stringIndex: [String: Int] = [:]
    fileprivate var intIndex: [Int: Int] = [:]

    func set(_ key: PickleValue, _ value: PickleNode) {
        let existing: Int?
        switch key {
        case .string(let s): existing = stringIndex[s]
        case .int(let i): existing = intIndex[i]
        default: existing = keys.firstIndex(of: key)
        }
        if let existing {
            values[existing] = value
            return
        }
        switch key {
        case .string(let s): stringIndex[s] = keys.count
        case .int(let i): intIndex[i] = keys.count
        default: break
        }
        keys.append(key)
        values.append(value)
    }
}

extension PickleDictBox {
    /// Drops every entry.
    func removeAll() {
        keys = []
        values = []
        stringIndex = [:]
        intIndex = [:]
    }
}

/// One stack or memo item.
enum PickleNode {
    case value(PickleValue)
    case tuple([PickleNode])
    case list(PickleListBox)
    case dict(PickleDictBox)
    case set(PickleListBox)

    /// Python nests at most ~1000 levels before its own recursion limit; checkpoints use fewer than 10.
    static let maximumDepth = 512

    /// The immutable value tree. `budget` bounds the total number of nodes produced, so a pickle that shares
    /// one list many times at many levels (exponential when copied) fails instead of exhausting memory; a
    /// self-containing list fails on depth.
    func frozen(depth: Int, budget: inout Int, error: (String) -> CheckpointError) throws -> PickleValue {
        guard depth < PickleNode.maximumDepth else {
            throw error("containers nested deeper than \(PickleNode.maximumDepth) levels (or a container holds itself)")
        }
        budget -= 1
        guard budget >= 0 else { throw error("the value tree is far larger than the pickle (shared containers)") }
        switch self {
        case .value(let v):
            return v
        case .tuple(let items):
            return .tuple(try items.map { try $0.frozen(depth: depth + 1, budget: &budget, error: error) })
        case .list(let box):
            return .list(try box.items.map { try $0.frozen(depth: depth + 1, budget: &budget, error: error) })
        case .set(let box):
            return .set(try box.items.map { try $0.frozen(depth: depth + 1, budget: &budget, error: error) })
        case .dict(let box):
            var entries: [PickleDictEntry] = []
            entries.reserveCapacity(box.keys.count)
            for (key, value) in zip(box.keys, box.values) {
                entries.append(
                    PickleDictEntry(key: key, value: try value.frozen(depth: depth + 1, budget: &budget, error: error)))
            }
            return .dict(entries)
        }
    }
}

/// Names of every pickle opcode (protocols 0–5), for error messages about the ones not implemented.
enum PickleOpcodeNames {
    static func name(of op: UInt8) -> String? { table[op] }

    private static let table: [UInt8: String] = [
        0x28: "MARK", 0x2E: "STOP", 0x30: "POP", 0x31: "POP_MARK", 0x32: "DUP", 0x46: "FLOAT", 0x49: "INT",
        0x4A: "BININT", 0x4B: "BININT1", 0x4C: "LONG", 0x4D: "BININT2", 0x4E: "NONE", 0x50: "PERSID",
        0x51: "BINPERSID", 0x52: "REDUCE", 0x53: "STRING", 0x54: "BINSTRING", 0x55: "SHORT_BINSTRING",
        0x56: "UNICODE", 0x58: "BINUNICODE", 0x61: "APPEND", 0x62: "BUILD", 0x63: "GLOBAL", 0x64: "DICT",
        0x7D: "EMPTY_DICT", 0x65: "APPENDS", 0x67: "GET", 0x68: "BINGET", 0x69: "INST", 0x6A: "LONG_BINGET",
        0x6C: "LIST", 0x5D: "EMPTY_LIST", 0x6F: "OBJ", 0x70: "PUT", 0x71: "BINPUT", 0x72: "LONG_BINPUT",
        0x73: "SETITEM", 0x74: "TUPLE", 0x29: "EMPTY_TUPLE", 0x75: "SETITEMS", 0x47: "BINFLOAT", 0x80: "PROTO",
        0x81: "NEWOBJ", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x85: "TUPLE1", 0x86: "TUPLE2", 0x87: "TUPLE3",
        0x88: "NEWTRUE", 0x89: "NEWFALSE", 0x8A: "LONG1", 0x8B: "LONG4", 0x42: "BINBYTES", 0x43: "SHORT_BINBYTES",
        0x8C: "SHORT_BINUNICODE", 0x8D: "BINUNICODE8", 0x8E: "BINBYTES8", 0x8F: "EMPTY_SET", 0x90: "ADDITEMS",
        0x91: "FROZENSET", 0x92: "NEWOBJ_EX", 0x93: "STACK_GLOBAL", 0x94: "MEMOIZE", 0x95: "FRAME",
        0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
    ]
}
