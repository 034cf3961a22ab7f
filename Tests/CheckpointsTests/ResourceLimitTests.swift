// Untrusted sizes checked before they drive an allocation or a loop: one test per limit added for issue 7.
import Foundation
import Testing
import TestSupport
@testable import Checkpoints
import TensorCore
#if canImport(Glibc)
    import Glibc
#endif

/// A pickle (protocol 2) whose list number `levels` holds list `levels − 1` twice, and so on: 2^levels nodes
/// when copied out, in about 8 bytes per level. `tail` runs with list `levels` in memo slot `levels`.
func sharedListPickle(levels: Int, tail: [UInt8]) -> [UInt8] {
    var p: [UInt8] = [0x80, 0x02, 0x5D, 0x72] + withUnsafeBytes(of: UInt32(0).littleEndian, Array.init)
    for i in 1...levels {
        let previous = withUnsafeBytes(of: UInt32(i - 1).littleEndian, Array.init)
        p += [0x5D, 0x72] + withUnsafeBytes(of: UInt32(i).littleEndian, Array.init)
        p += [0x28, 0x6A] + previous + [0x6A] + previous + [0x65]
    }
    return p + tail
}

/// `_rebuild_tensor_v2` of `FloatStorage` "0" with `numel` elements viewed as `size` / `stride`, in a state dict
/// `{"w": …}`.
func stateDictPickle(numel: Int, size: [Int], stride: [Int]) -> [UInt8] {
    func string(_ s: String) -> [UInt8] {
        [0x58] + withUnsafeBytes(of: UInt32(s.utf8.count).littleEndian, Array.init) + Array(s.utf8)
    }
    func int(_ v: Int) -> [UInt8] { [0x8A, 8] + withUnsafeBytes(of: Int64(v).littleEndian, Array.init) }
    func tuple(_ items: [[UInt8]]) -> [UInt8] { [0x28] + items.flatMap { $0 } + [0x74] }
    let pid =
        tuple([string("storage"), Array("ctorch\nFloatStorage\n".utf8), string("0"), string("cpu"), int(numel)]) + [
            0x51
        ]
    let args = tuple([
        pid, int(0), tuple(size.map(int)), tuple(stride.map(int)), [0x89], Array("ccollections\nOrderedDict\n)R".utf8),
    ])
    return [0x80, 0x02, 0x7D, 0x28] + string("w") + Array("ctorch._utils\n_rebuild_tensor_v2\n".utf8) + args + [
        0x52, 0x75, 0x2E,
    ]
}

@Suite("Resource limits on untrusted sizes")
struct ResourceLimitTests {
    @Test(
        "Freezing shares one node budget per pickle: a large shared list used as a dict key many times fails instead of hanging"
    )
    func freezeBudgetIsShared() throws {
        // 2^14 nodes per key, 2000 keys: 33 M node copies with a budget per freeze, refused with a shared one.
        var tail: [UInt8] = [0x7D]
        for _ in 0..<2000 { tail += [0x6A] + withUnsafeBytes(of: UInt32(14).littleEndian, Array.init) + [0x4E, 0x73] }
        let pickle = sharedListPickle(levels: 14, tail: tail + [0x2E])
        #expect {
            _ = try unpickle(pickle)
        } throws: { "\($0)".contains("far larger than the pickle") }
        // One such key alone is fine: the budget is about the whole pickle.
        let single = sharedListPickle(
            levels: 14,
            tail: [0x7D, 0x6A] + withUnsafeBytes(of: UInt32(14).littleEndian, Array.init) + [0x4E, 0x73, 0x2E])
        #expect(try unpickle(single).dictEntries?.count == 1)
    }

    @Test("A list that holds itself is emptied after loading, refused or read, and freed with its unpickler")
    func selfContainingListIsReleased() throws {
        // EMPTY_LIST, BINPUT 0, BINGET 0, APPEND: the list holds itself. Returned (refused on depth), or popped
        // before an empty dict is returned.
        for (pickle, refused) in [
            ([0x80, 0x02, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2E] as [UInt8], true),
            ([0x80, 0x02, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x30, 0x7D, 0x2E], false),
        ] {
            final class Watch { weak var list: PickleListBox? }
            let watch = Watch()
            pickle.withUnsafeBytes { raw in
                var unpickler = Unpickler(raw, file: "test.pkl", record: "test.pkl")
                unpickler.listCreated = { watch.list = $0 }
                let loaded = (try? unpickler.load()) != nil
                #expect(loaded == !refused)
                #expect(unpickler.memo.isEmpty && unpickler.stack.isEmpty && unpickler.lists.isEmpty)
            }
            #expect(watch.list == nil, "the list outlived its load (refused: \(refused))")
        }
    }

    @Test("A tensor whose size fits an element count but overflows a byte count is refused by the unpickler")
    func byteCountOverflow() throws {
        #expect {
            _ = try unpickle(stateDictPickle(numel: 2, size: [1 << 31, 1 << 31], stride: [0, 0]))
        } throws: { "\($0)".contains("overflows a byte count") }
        #expect(try unpickle(stateDictPickle(numel: 2, size: [1 << 20], stride: [0]))["w"] != nil)
    }

    @Test("A stride-0 view may repeat its bytes ~1000×, not claim terabytes: refused at open, before any allocation")
    func broadcastBomb() throws {
        #expect {
            _ = try TorchArchive(path: Fixtures.path("malformed/pt_broadcast_bomb.bin"))
        } throws: {
            ($0 as? CheckpointError)?.kind == .corrupt && "\($0)".contains("expands 4 stored bytes to 4398046511104")
        }
        // The usual broadcasts (position_ids-like expands) stay readable.
        let storage = TorchStorageReference(key: "0", kind: .typed(.f32), location: "cpu", elementCount: 2)
        let fine = TorchTensorReference(storage: storage, dtype: .f32, offset: 0, shape: [512, 2], strides: [0, 1])
        try TorchTensorMaterializer.validate(fine, name: "fine", record: .mapped(0..<8), recordName: "0", file: "test")
        let bomb = TorchTensorReference(
            storage: storage, dtype: .f32, offset: 0, shape: [1 << 20, 2], strides: [0, 1])
        #expect(throws: CheckpointError.self) {
            try TorchTensorMaterializer.validate(
                bomb, name: "bomb", record: .mapped(0..<8), recordName: "0", file: "test")
        }
    }

    @Test("A writer removes temporary files of dead processes for its destination, and keeps live ones and others")
    func staleTemporaries() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = child.processIdentifier
        let stale = "\(folder)/.w.safetensors.tmp-\(dead)-AbC123"
        let live = "\(folder)/.w.safetensors.tmp-\(getppid())-XyZ789"
        let other = "\(folder)/.v.safetensors.tmp-\(dead)-AbC123"
        for path in [stale, live, other] { try Fixtures.write([1, 2, 3], to: path) }
        try SafetensorsWriter.write(
            [TensorSource(name: "x", tensor: Tensor([1], shape: [1]))], metadata: nil,
            to: "\(folder)/w.safetensors", overwrite: false)
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: live) && FileManager.default.fileExists(atPath: other))
    }

    @Test(
        "checkSpace leaves the temporary file empty; the refusal itself is the disk-full test of FailureInjectionTests")
    func checkSpace() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let out = try AtomicFileWriter(destination: "\(folder)/x.bin", overwrite: false)
        try out.write([1, 2])
        try out.checkSpace(1 << 20)
        #expect((try FileManager.default.attributesOfItem(atPath: out.temporaryPath)[.size] as? Int) == 0)
        try out.write([7])
        try out.commit()
        #expect(try Fixtures.bytes("\(folder)/x.bin") == [7])
    }
}
