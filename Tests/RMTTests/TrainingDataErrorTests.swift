// Every refusal of a data file (docs/RMT.md §8.7): one line naming the file and the key, and what to do.
import Checkpoints
import Foundation
import TensorCore
import Testing
import TestSupport
@testable import RMT

/// One bad data file: its tensors, the model it is checked against, and the key and words the error must hold.
struct BadData: Sendable, CustomStringConvertible {
    let description: String
    let tensors: [(String, Tensor)]
    let requirements: TrainingDataRequirements
    let key: String
    let says: String
    var kind: CheckpointError.Kind = .invalidArgument

    static let decoder = TrainingDataRequirements(variant: .decoder, vocabularySize: 10, memoryTokens: 2)
    static let encoder = TrainingDataRequirements(
        variant: .encoder, vocabularySize: 20, memoryTokens: 3, labelCount: 3,
        special: SpecialTokenIDs(pad: 0, cls: 1, sep: 2))

    static func cases() throws -> [BadData] {
        let ids = try int64Tensor([2, 3, 4, 5, 6, 7, 8, 9], [2, 4])
        let classes = try int64Tensor([0, 2], [2])
        func ints(_ values: [Int], _ shape: Shape = [2, 4]) throws -> Tensor { try int64Tensor(values, shape) }
        let d = decoder, e = encoder
        return [
            BadData(
                description: "no input_ids", tensors: [("labels", ids)], requirements: d, key: "input_ids",
                says: "is missing", kind: .tensorNotFound),
            BadData(
                description: "a misspelt key", tensors: [("input_ids", ids), ("label", ids)], requirements: d,
                key: "label", says: "is not a data key"),
            BadData(
                description: "float ids",
                tensors: [("input_ids", Tensor([Float](repeating: 2, count: 8), shape: [2, 4]))],
                requirements: d, key: "input_ids", says: "is f32; expected i64 or i32 (save it with numpy as int64)",
                kind: .unsupportedDType),
            BadData(
                description: "int16 ids",
                tensors: [
                    ("input_ids", try Tensor(dtype: .i16, shape: [2, 4], bytes: [UInt8](repeating: 2, count: 16)))
                ],
                requirements: d, key: "input_ids", says: "is i16; expected i64 or i32", kind: .unsupportedDType),
            BadData(
                description: "1-D ids", tensors: [("input_ids", try ints([2, 3, 4, 5, 6, 7, 8, 9], [8]))],
                requirements: d, key: "input_ids", says: "is [8]; expected [N, T]"),
            BadData(
                description: "no rows", tensors: [("input_ids", try ints([], [0, 4]))], requirements: d,
                key: "input_ids", says: "is [0, 4]; expected [N, T] with N, T ≥ 1"),
            BadData(
                description: "an id past the vocabulary",
                tensors: [("input_ids", try ints([2, 3, 4, 5, 6, 7, 8, 10]))],
                requirements: d, key: "input_ids", says: "holds 10 at row 1, column 3; token ids must be in 0..<10"),
            BadData(
                description: "a negative id", tensors: [("input_ids", try ints([2, -1, 4, 5, 6, 7, 8, 9]))],
                requirements: d, key: "input_ids", says: "holds -1 at row 0, column 1"),
            BadData(
                description: "a mask of another shape",
                tensors: [("input_ids", ids), ("attention_mask", try ints([1, 1, 1, 1, 1, 1], [2, 3]))],
                requirements: d, key: "attention_mask", says: "is [2, 3] but must be [2, 4], the shape of input_ids"),
            BadData(
                description: "a mask value 2",
                tensors: [("input_ids", ids), ("attention_mask", try ints([1, 2, 1, 1, 1, 1, 1, 1]))],
                requirements: d, key: "attention_mask", says: "holds 2 at row 0, column 1; masks hold only 0 and 1"),
            BadData(
                description: "a float mask",
                tensors: [
                    ("input_ids", ids), ("attention_mask", Tensor([Float](repeating: 1, count: 8), shape: [2, 4])),
                ],
                requirements: d, key: "attention_mask",
                says: "is f32; expected bool or i64 or i32 or i16 or i8 or u8 (save it with numpy as bool or int64)",
                kind: .unsupportedDType),
            BadData(
                description: "labels of another shape",
                tensors: [("input_ids", ids), ("labels", try ints([2, 3, 4], [1, 3]))],
                requirements: d, key: "labels", says: "is [1, 3] but must be [2, 4]"),
            BadData(
                description: "a label past the vocabulary",
                tensors: [("input_ids", ids), ("labels", try ints([-100, 3, 4, 5, 6, 7, 12, 9]))], requirements: d,
                key: "labels", says: "holds 12 at row 1, column 2; labels are −100 (ignored) or token ids in 0..<10"),
            BadData(
                description: "a negative label other than −100",
                tensors: [("input_ids", ids), ("labels", try ints([-1, 3, 4, 5, 6, 7, 8, 9]))], requirements: d,
                key: "labels", says: "holds -1 at row 0, column 0"),
            BadData(
                description: "bool labels",
                tensors: [("input_ids", ids), ("labels", try boolTensor([Bool](repeating: true, count: 8), [2, 4]))],
                requirements: d, key: "labels", says: "is bool; expected i64 or i32", kind: .unsupportedDType),
            BadData(
                description: "a labels_mask value 3",
                tensors: [("input_ids", ids), ("labels_mask", try ints([1, 1, 1, 3, 1, 1, 1, 1]))], requirements: d,
                key: "labels_mask", says: "holds 3 at row 0, column 3"),
            BadData(
                description: "a labels_mask of another shape",
                tensors: [("input_ids", ids), ("labels_mask", try boolTensor([true, true], [2, 1]))], requirements: d,
                key: "labels_mask", says: "is [2, 1] but must be [2, 4]"),
            BadData(
                description: "a row whose labels are all −100",
                tensors: [("input_ids", ids), ("labels", try ints([-100, 3, 4, 5, -100, -100, -100, -100]))],
                requirements: d, key: "labels", says: "leaves row 1 with no scored position"),
            BadData(
                description: "a row labelled only in column 0 (never scored)",
                tensors: [("input_ids", ids), ("labels", try ints([5, -100, -100, -100, 6, 7, 8, 9]))],
                requirements: d, key: "labels", says: "leaves row 0 with no scored position"),
            BadData(
                description: "a row whose predicting positions are all masked out",
                tensors: [
                    ("input_ids", ids),
                    ("labels_mask", try boolTensor([true, true, true, true, false, false, false, true], [2, 4])),
                ], requirements: d, key: "labels_mask", says: "leaves row 1 with no scored position"),
            BadData(
                description: "rows of one token", tensors: [("input_ids", try ints([2, 3], [2, 1]))], requirements: d,
                key: "input_ids", says: "has rows of one token"),
            BadData(
                description: "encoder data without labels", tensors: [("input_ids", ids)], requirements: e,
                key: "labels", says: "is missing: the encoder needs one class id per row, `labels` [2]"),
            BadData(
                description: "encoder labels per token", tensors: [("input_ids", ids), ("labels", ids)],
                requirements: e,
                key: "labels", says: "is [2, 4] but must be [2]"),
            BadData(
                description: "an encoder class past the classifier",
                tensors: [("input_ids", ids), ("labels", try ints([0, 3], [2]))], requirements: e, key: "labels",
                says: "holds 3 at row 1; class ids must be in 0..<3"),
            BadData(
                description: "encoder labels_mask",
                tensors: [
                    ("input_ids", ids), ("labels", classes), ("labels_mask", try ints([1, 1, 1, 1, 1, 1, 1, 1])),
                ],
                requirements: e, key: "labels_mask", says: "applies to the decoder's token labels"),
            BadData(
                description: "an encoder memory id in the data",
                tensors: [("input_ids", try ints([2, 3, 4, 5, 6, 21, 8, 9])), ("labels", classes)], requirements: e,
                key: "input_ids", says: "holds memory id 21 at row 1, column 1; ids 20..22 are the memory tokens"),
            BadData(
                description: "an encoder id past the grown table",
                tensors: [("input_ids", try ints([2, 3, 4, 23, 6, 7, 8, 9])), ("labels", classes)], requirements: e,
                key: "input_ids", says: "holds 23 at row 0, column 3; token ids must be in 0..<20"),
            BadData(
                description: "an encoder row of special tokens only",
                tensors: [("input_ids", try ints([1, 5, 6, 2, 1, 2, 0, 0])), ("labels", classes)], requirements: e,
                key: "input_ids", says: "row 1 holds only special tokens and padding (ids 0, 1, 2)"),
        ]
    }
}

@Suite("training data: every refusal names the file and the key")
struct TrainingDataErrorTests {
    @Test(
        "a bad data file is refused with one line naming the file, the key and what is wrong",
        arguments: try BadData.cases())
    func refused(_ bad: BadData) throws {
        let files = try DataFiles()
        defer { files.remove() }
        let path = try files.write(bad.description.replacingOccurrences(of: " ", with: "_"), bad.tensors)
        do {
            _ = try TrainingData.read(path, requirements: bad.requirements)
            Issue.record("\(bad) was accepted")
        } catch let error as CheckpointError {
            #expect(error.file == path && error.tensor == bad.key && error.kind == bad.kind, "\(error)")
            #expect(error.description.hasPrefix("\(path): `\(bad.key)` "), "\(error)")
            #expect(error.description.contains(bad.says), "\(error)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test(
        "int32 ids with bool and int32 masks read; a missing file and the encoder's data given to a decoder are refused"
    )
    func readable() throws {
        let files = try DataFiles()
        defer { files.remove() }
        let good = try files.write(
            "good",
            [
                ("input_ids", try int32Tensor([2, 3, 4, 5, 6, 7, 8, 9], [2, 4])),
                ("attention_mask", try boolTensor([false, true, true, true, true, true, true, true], [2, 4])),
                ("labels_mask", try int32Tensor([0, 1, 1, 1, 1, 1, 1, 0], [2, 4])),
            ])
        let data = try TrainingData.read(good, requirements: BadData.decoder)
        #expect(data.labels == data.inputIds && !data.hasLabels)
        #expect(data.notes == ["labels: none given, so every next token is scored (labels = input_ids)"])
        #expect(data.attentionMask == [0, 1, 1, 1, 1, 1, 1, 1])
        #expect(data.labelsMask == [false, true, true, true, true, true, true, false])
        #expect(throws: CheckpointError.self) {
            try TrainingData.read("\(files.folder)/absent.npz", requirements: BadData.decoder)
        }
        let encoderData = Fixtures.path("training/encoder/data.npz")
        let error = #expect(throws: CheckpointError.self) {
            try TrainingData.read(
                encoderData,
                requirements: TrainingDataRequirements(variant: .decoder, vocabularySize: 64, memoryTokens: 3))
        }
        #expect(error?.description == "\(encoderData): `labels` is [5] but must be [5, 24], the shape of input_ids")
    }
}
