// A restricted unpickler: the opcodes of docs/FORMATS.md §5.2, the globals of §5.3, nothing imported or executed.
import TensorCore

/// Reads one pickle into a `PickleValue` tree.
///
/// Security model: globals are looked up in a fixed allow-list and become inert tags; REDUCE/NEWOBJ only
/// "call" the few tags whose meaning is known (OrderedDict, the tensor rebuild functions, …), building values
/// directly. Every length is checked against the bytes left before anything is allocated; any other opcode or
/// global is refused with its byte, offset and name. Persistent ids must be torch storage tuples.
public struct Unpickler {
    /// The pickle bytes (valid while the caller keeps them alive).
    let bytes: UnsafeRawBufferPointer
    /// The file named in errors.
    let file: String
    /// The record inside the file (e.g. `archive/data.pkl`), named in errors.
    let record: String
    /// The next byte to read.
    public private(set) var offset: Int

    var stack: [PickleNode] = []
    var marks: [Int] = []
    var memo: [Int: PickleNode] = [:]
    var storages: [UTF8Key: TorchStorageReference] = [:]
    /// Where the opcode being executed starts, for error messages.
    var opcodeOffset = 0
    var opcode: UInt8 = 0
    /// Nodes that freezing may still produce during this `load()`: shared by every freeze (STOP, dict keys,
    /// call arguments), so a pickle that freezes one large shared container many times fails instead of hanging.
    var freezeBudget = 0
    /// Every list, set and dict box this `load()` created, emptied when it returns (see `releaseContainers`).
    var lists: [PickleListBox] = []
    var dicts: [PickleDictBox] = []
    /// Called with every list box created (tests keep a weak reference to check that each one is freed).
    var listCreated: ((PickleListBox) -> Void)? = nil

    /// Prepares to read the pickle starting at `offset` of `bytes`.
    public init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0, file: String, record: String) {
        self.bytes = bytes
        self.offset = offset
        self.file = file
        self.record = record
    }

    /// Reads opcodes until STOP and returns the value on top of the stack. `offset` is then just past STOP,
    /// so concatenated pickles (the legacy format) can be read one after another.
    /// - Throws: `CheckpointError` naming the opcode, global or length at fault and its byte offset.
    public mutating func load() throws -> PickleValue {
        stack.removeAll()
        marks.removeAll()
        memo.removeAll()
        freezeBudget = max(1 << 16, (bytes.count - offset) * 4)
        defer { releaseContainers() }
        while true {
            opcodeOffset = offset
            guard let op = readByte() else { throw truncated("STOP opcode (0x2E)") }
            opcode = op
            if op == 0x2E {
                guard let top = stack.popLast() else { throw corrupt("STOP with an empty stack") }
                return try frozen(top)
            }
            try execute(op)
        }
    }

    // MARK: - Opcodes

    mutating func execute(_ op: UInt8) throws {
        switch op {
        case 0x80:  // PROTO
            guard let version = readByte() else { throw truncated("protocol number") }
            guard (2...5).contains(version) else {
                throw fail(.unsupportedContent, "unsupported pickle protocol \(version) (2–5 are read)")
            }
        case 0x95: _ = try readLength(UInt64.self, what: "FRAME size", skipping: false)
        case 0x28: marks.append(stack.count)
        case 0x30: _ = try pop()
        case 0x31: _ = try popToMark()
        case 0x32: stack.append(try top())
        case 0x29: stack.append(.tuple([], height: 1))
        case 0x74: stack.append(try tuple(try popToMark()))
        case 0x85, 0x86, 0x87:
            let n = Int(op - 0x84)
            guard stack.count >= n, stack.count - n >= (marks.last ?? 0) else {
                throw corrupt("TUPLE\(n) needs \(n) items")
            }
            let items = Array(stack.suffix(n))
            stack.removeLast(n)
            stack.append(try tuple(items))
        case 0x5D: stack.append(.list(newList()))
        case 0x61:
            let item = try pop()
            try listBox(try top(), for: "APPEND").items.append(item)
        case 0x65:
            let items = try popToMark()
            try listBox(try top(), for: "APPENDS").items.append(contentsOf: items)
        case 0x7D: stack.append(.dict(newDict()))
        case 0x73:
            let value = try pop(), key = try pop()
            let frozenKey = try frozenWithHeight(key)
            try dictBox(try top(), for: "SETITEM").set(frozenKey.value, height: frozenKey.height, value)
        case 0x75:
            let items = try popToMark()
            guard items.count % 2 == 0 else { throw corrupt("SETITEMS with an odd number of items") }
            let box = try dictBox(try top(), for: "SETITEMS")
            for i in stride(from: 0, to: items.count, by: 2) {
                let key = try frozenWithHeight(items[i])
                box.set(key.value, height: key.height, items[i + 1])
            }
        case 0x8F: stack.append(.set(newList()))
        case 0x90:
            let items = try popToMark()
            guard case .set(let box) = try top() else { throw corrupt("ADDITEMS on something that is not a set") }
            box.items.append(contentsOf: items)
        case 0x91:
            let items = try popToMark().map { try frozenWithHeight($0) }
            stack.append(try value(.set(items.map(\.value)), height: 1 + (items.map(\.height).max() ?? 0)))
        case 0x4E: stack.append(.value(.none))
        case 0x88: stack.append(.value(.bool(true)))
        case 0x89: stack.append(.value(.bool(false)))
        case 0x4B: stack.append(.value(.int(Int(try read(UInt8.self, "BININT1 argument")))))
        case 0x4D: stack.append(.value(.int(Int(try read(UInt16.self, "BININT2 argument")))))
        case 0x4A: stack.append(.value(.int(Int(try read(Int32.self, "BININT argument")))))
        case 0x8A:
            stack.append(
                .value(
                    .integer(twosComplement: try readBytes(Int(try read(UInt8.self, "LONG1 length")), "LONG1 bytes"))))
        case 0x8B:
            stack.append(
                .value(
                    .integer(twosComplement: try readBytes(try readLength(UInt32.self, what: "LONG4"), "LONG4 bytes"))))
        case 0x47:
            let bits = try read(UInt64.self, "BINFLOAT argument")
            stack.append(.value(.float(Double(bitPattern: UInt64(bigEndian: bits)))))
        case 0x58: stack.append(.value(.string(try readUTF8(try readLength(UInt32.self, what: "BINUNICODE")))))
        case 0x8C: stack.append(.value(.string(try readUTF8(Int(try read(UInt8.self, "SHORT_BINUNICODE length"))))))
        case 0x8D: stack.append(.value(.string(try readUTF8(try readLength(UInt64.self, what: "BINUNICODE8")))))
        case 0x55:
            stack.append(
                .value(
                    .string(
                        latin1(try readBytes(Int(try read(UInt8.self, "SHORT_BINSTRING length")), "SHORT_BINSTRING")))))
        case 0x54:
            stack.append(
                .value(.string(latin1(try readBytes(try readLength(UInt32.self, what: "BINSTRING"), "BINSTRING")))))
        case 0x43:
            stack.append(
                .value(.bytes(try readBytes(Int(try read(UInt8.self, "SHORT_BINBYTES length")), "SHORT_BINBYTES"))))
        case 0x42:
            stack.append(.value(.bytes(try readBytes(try readLength(UInt32.self, what: "BINBYTES"), "BINBYTES"))))
        case 0x8E:
            stack.append(.value(.bytes(try readBytes(try readLength(UInt64.self, what: "BINBYTES8"), "BINBYTES8"))))
        case 0x63:
            let module = try readLine("GLOBAL module"), name = try readLine("GLOBAL name")
            stack.append(.value(try global(module: module, name: name)))
        case 0x93:
            let name = try frozen(try pop()), module = try frozen(try pop())
            guard case .string(let n) = name, case .string(let m) = module else {
                throw corrupt("STACK_GLOBAL needs two strings, found \(module.typeName) and \(name.typeName)")
            }
            stack.append(.value(try global(module: m, name: n)))
        case 0x52:
            let args = try pop(), callable = try pop()
            stack.append(try call(callable, arguments: args, keywords: nil))
        case 0x81:
            let args = try pop(), cls = try pop()
            stack.append(try call(cls, arguments: args, keywords: nil))
        case 0x92:
            let keywords = try pop(), args = try pop(), cls = try pop()
            stack.append(try call(cls, arguments: args, keywords: keywords))
        case 0x62:
            let state = try pop()
            try build(try top(), state: state)
        case 0x51:
            let pid = try frozen(try pop())
            stack.append(.value(.storage(try persistentStorage(pid))))
        case 0x71: memo[Int(try read(UInt8.self, "BINPUT index"))] = try top()
        case 0x72: memo[Int(try read(UInt32.self, "LONG_BINPUT index"))] = try top()
        case 0x94: memo[memo.count] = try top()
        case 0x68: stack.append(try memoEntry(Int(try read(UInt8.self, "BINGET index"))))
        case 0x6A: stack.append(try memoEntry(Int(try read(UInt32.self, "LONG_BINGET index"))))
        default:
            let name = PickleOpcodeNames.name(of: op).map { " (\($0))" } ?? ""
            throw fail(
                .unsupportedContent,
                "unsupported pickle opcode 0x\(hex(op))\(name); only the opcodes torch.save writes are read, nothing is executed"
            )
        }
    }

    // MARK: - Stack

    mutating func pop() throws -> PickleNode {
        guard let top = stack.popLast(), stack.count >= (marks.last ?? 0) else { throw corrupt("stack underflow") }
        return top
    }

    func top() throws -> PickleNode {
        guard let top = stack.last, stack.count > (marks.last ?? 0) else { throw corrupt("stack underflow") }
        return top
    }

    mutating func popToMark() throws -> [PickleNode] {
        guard let mark = marks.popLast() else { throw corrupt("no MARK on the stack") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    func memoEntry(_ index: Int) throws -> PickleNode {
        guard let node = memo[index] else { throw corrupt("memo entry \(index) was never stored") }
        return node
    }

    func listBox(_ node: PickleNode, for opcodeName: String) throws -> PickleListBox {
        guard case .list(let box) = node else { throw corrupt("\(opcodeName) on something that is not a list") }
        return box
    }

    func dictBox(_ node: PickleNode, for opcodeName: String) throws -> PickleDictBox {
        guard case .dict(let box) = node else { throw corrupt("\(opcodeName) on something that is not a dict") }
        return box
    }

    /// A tuple node, refused when it would nest deeper than `PickleNode.maximumDepth`.
    func tuple(_ items: [PickleNode]) throws -> PickleNode {
        let height = 1 + (items.map(\.height).max() ?? 0)
        guard height < PickleNode.maximumDepth else { throw corrupt(PickleNode.tooDeep) }
        return .tuple(items, height: height)
    }

    /// A value node of the given height, refused when deeper than `PickleNode.maximumDepth`.
    func value(_ value: PickleValue, height: Int) throws -> PickleNode {
        guard height < PickleNode.maximumDepth else { throw corrupt(PickleNode.tooDeep) }
        return .value(value, height: height)
    }

    mutating func newList() -> PickleListBox {
        let box = PickleListBox()
        lists.append(box)
        listCreated?(box)
        return box
    }

    mutating func newDict() -> PickleDictBox {
        let box = PickleDictBox()
        dicts.append(box)
        return box
    }

    /// Empties the stack, the memo and the boxes of this load, without recursion (`PickleNode.dismantle`). The
    /// boxes' contents have been frozen into values by then, and a pickle can make a box hold itself (APPEND after
    /// BINPUT): a reference cycle that would otherwise never be freed.
    mutating func releaseContainers() {
        PickleNode.dismantle(&stack)
        var memoNodes = Array(memo.values)
        memo = [:]
        PickleNode.dismantle(&memoNodes)
        for box in lists { PickleNode.dismantle(&box.items) }
        for box in dicts { box.removeAll() }
        lists = []
        dicts = []
    }

    mutating func frozen(_ node: PickleNode) throws -> PickleValue {
        try frozenWithHeight(node).value
    }

    /// The frozen value and the height of its tree.
    mutating func frozenWithHeight(_ node: PickleNode) throws -> (value: PickleValue, height: Int) {
        var remaining = freezeBudget
        defer { freezeBudget = remaining }
        return try node.frozen(depth: 0, budget: &remaining, error: corrupt)
    }

    // MARK: - Reading arguments

    mutating func readByte() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: String) throws -> T {
        var reader = ByteReader(bytes, offset: offset)
        guard let v = reader.read(T.self) else { throw truncated(what) }
        offset = reader.offset
        return v
    }

    /// Reads a length field and checks that that many bytes remain (unless `skipping` is false: FRAME sizes
    /// are only hints and are not checked).
    mutating func readLength<T: FixedWidthInteger & UnsignedInteger>(_: T.Type, what: String, skipping: Bool = true)
        throws -> Int
    {
        let n = try read(T.self, "\(what) length")
        guard !skipping || UInt64(n) <= UInt64(bytes.count - offset) else {
            throw fail(
                .truncated,
                "\(what) length \(n) exceeds the \(bytes.count - offset) bytes left; the record is truncated or corrupt"
            )
        }
        return Int(clamping: UInt64(n))
    }

    mutating func readBytes(_ count: Int, _ what: String) throws -> [UInt8] {
        guard count <= bytes.count - offset else {
            throw fail(
                .truncated, "\(what) needs \(count) bytes but \(bytes.count - offset) are left; the record is truncated"
            )
        }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func readUTF8(_ count: Int) throws -> String {
        let raw = try readBytes(count, "string")
        guard let s = String(validating: raw, as: UTF8.self) else { throw corrupt("invalid UTF-8 in a string") }
        return s
    }

    func latin1(_ raw: [UInt8]) -> String {
        String(String.UnicodeScalarView(raw.map { Unicode.Scalar($0) }))
    }

    /// A GLOBAL argument: printable ASCII up to a newline, at most 256 bytes.
    mutating func readLine(_ what: String) throws -> String {
        var end = offset
        while end < bytes.count, bytes[end] != 0x0A, end - offset < 256 { end += 1 }
        guard end < bytes.count, bytes[end] == 0x0A else { throw truncated("\(what) ending in a newline") }
        let raw = Array(bytes[offset..<end])
        offset = end + 1
        guard raw.allSatisfy({ (0x21...0x7E).contains($0) }) else { throw corrupt("\(what) is not printable ASCII") }
        return String(decoding: raw, as: UTF8.self)
    }

    // MARK: - Errors

    func fail(_ kind: CheckpointError.Kind, _ message: String) -> CheckpointError {
        CheckpointError(
            kind, file: file, tensor: record,
            "\(message) (opcode 0x\(hex(opcode)) at offset \(opcodeOffset) of \(record))")
    }

    func corrupt(_ message: String) -> CheckpointError {
        fail(.corrupt, "malformed pickle: \(message); the file is corrupt or not a torch checkpoint")
    }

    func truncated(_ what: String) -> CheckpointError {
        fail(.truncated, "the pickle ends before its \(what); the file is truncated")
    }
}

func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
}
