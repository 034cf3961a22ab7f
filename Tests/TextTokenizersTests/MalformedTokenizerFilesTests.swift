// Bad or missing tokenizer files give one clear error naming the file and the field.
import Checkpoints
import ConvertKit
import Foundation
import Testing
import TestSupport
import TextTokenizers

/// Writes `files` (name → text) into a fresh folder and returns the error `loadTokenizer` throws for it.
func loadError(_ files: [String: String]) throws -> CheckpointError? {
    let folder = try Fixtures.temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    for (name, text) in files { try Fixtures.write(Array(text.utf8), to: "\(folder)/\(name)") }
    do {
        _ = try loadTokenizer(folder: folder)
        return nil
    } catch let error as CheckpointError {
        return error
    }
}

/// A minimal valid WordPiece tokenizer.json with `model` replaced.
func wordPieceJSON(model: String, extra: String = "") -> String {
    #"{"normalizer":{"type":"BertNormalizer"},"pre_tokenizer":{"type":"BertPreTokenizer"},"model":"# + model + extra
        + "}"
}

@Suite("Malformed tokenizer files")
struct MalformedTokenizerFilesTests {
    @Test("a folder without tokenizer files names what was looked for")
    func noFiles() throws {
        let error = try #require(try loadError(["config.json": "{}"]))
        #expect(error.kind == .io)
        #expect(
            error.description.contains(
                "has no tokenizer files (looked for tokenizer.json, vocab.txt, vocab.json + merges.txt)"))
    }

    @Test("a missing folder and a file instead of a folder are refused")
    func notAFolder() throws {
        #expect(throws: CheckpointError.self) { try loadTokenizer(folder: "/nonexistent/rmt-convert-tokenizer") }
        let error = try #require(throws: CheckpointError.self) {
            try loadTokenizer(folder: Fixtures.path("tokenizers/bpe-small/vocab.json"))
        }
        #expect(error.description.contains("is a file"))
    }

    @Test("vocab.json without merges.txt asks for merges.txt")
    func vocabularyWithoutMerges() throws {
        let error = try #require(try loadError(["vocab.json": #"{"a": 0}"#]))
        #expect(error.description.contains("has vocab.json but no merges.txt"))
    }

    @Test("invalid JSON in tokenizer.json gives the byte offset")
    func invalidJSON() throws {
        let error = try #require(try loadError(["tokenizer.json": #"{"model": {"type": "BPE",}"#]))
        #expect(error.kind == .corrupt)
        #expect(error.file.hasSuffix("tokenizer.json"))
        #expect(error.description.contains("is not valid JSON"))
        #expect(error.description.contains("at byte"))
    }

    @Test("a missing model, a wrong field type and an unknown model type name the field")
    func badModel() throws {
        let missing = try #require(try loadError(["tokenizer.json": #"{"normalizer": null}"#]))
        #expect(missing.description.contains("field 'model': is missing"))
        let wrongType = try #require(
            try loadError(["tokenizer.json": wordPieceJSON(model: #"{"type":"WordPiece","vocab":{"[UNK]":"0"}}"#)]))
        #expect(wrongType.description.contains("field 'model.vocab.[UNK]': must be a token id from 0 to 4294967295"))
        let unknown = try #require(
            try loadError(["tokenizer.json": wordPieceJSON(model: #"{"type":"Unigram","vocab":{"a":0}}"#)]))
        #expect(unknown.kind == .unsupportedContent)
        #expect(unknown.description.contains("field 'model.type': model type 'Unigram' is not supported"))
    }

    @Test("an unknown token missing from the vocabulary is named")
    func missingUnknownToken() throws {
        let error = try #require(
            try loadError([
                "tokenizer.json": wordPieceJSON(model: #"{"type":"WordPiece","vocab":{"a":0},"unk_token":"[UNK]"}"#)
            ]))
        #expect(error.description.contains("field 'unk_token': the unknown token '[UNK]' is not in the vocabulary"))
    }

    @Test("unsupported normalizers and pre-tokenizers are refused by name")
    func unsupportedComponents() throws {
        let model = #"{"type":"WordPiece","vocab":{"[UNK]":0}}"#
        let normalizer = try #require(
            try loadError(["tokenizer.json": #"{"normalizer":{"type":"NFKC"},"model":"# + model + "}"]))
        #expect(normalizer.description.contains("field 'normalizer.type': normalizer 'NFKC' is not supported"))
        let preTokenizer = try #require(
            try loadError(["tokenizer.json": #"{"pre_tokenizer":{"type":"Metaspace"},"model":"# + model + "}"]))
        #expect(preTokenizer.description.contains("pre-tokenizer 'Metaspace' is not supported"))
    }

    @Test("a merge whose tokens are not in the vocabulary names the merge")
    func mergeOutsideVocabulary() throws {
        let error = try #require(
            try loadError(["vocab.json": #"{"a": 0, "b": 1}"#, "merges.txt": "#version: 0.2\na b\n"]))
        #expect(error.file.hasSuffix("merges.txt"))
        #expect(error.description.contains("field 'merges[0]': merge 'a b' makes 'ab', which is not in the vocabulary"))
    }

    @Test("a merges.txt line without exactly two tokens gives its line number")
    func badMergeLine() throws {
        let error = try #require(
            try loadError(["vocab.json": #"{"a": 0, "b": 1, "ab": 2}"#, "merges.txt": "#version: 0.2\na b\nab\n"]))
        #expect(error.description.contains("field 'line 3': must hold two tokens separated by one space"))
    }

    @Test("a vocab.txt without [CLS] cannot mark the sequence")
    func vocabularyWithoutCLS() throws {
        let error = try #require(try loadError(["vocab.txt": "[PAD]\n[UNK]\n[SEP]\nhello\n"]))
        #expect(error.description.contains("field 'cls_token': the token '[CLS]' is not in the vocabulary"))
    }

    @Test("an empty vocab.txt and a non-UTF-8 vocab.txt are refused")
    func emptyOrBinaryVocabulary() throws {
        let empty = try #require(try loadError(["vocab.txt": ""]))
        #expect(empty.description.contains("vocab.txt: is empty"))
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Fixtures.write([0x5B, 0x55, 0x4E, 0x4B, 0x5D, 0x0A, 0xFF, 0xFE, 0x0A], to: "\(folder)/vocab.txt")
        let binary = try #require(throws: CheckpointError.self) { try loadTokenizer(folder: folder) }
        #expect(binary.description.contains("field 'line 2': is not valid UTF-8"))
    }
}

@Suite("Token ids as tokenizers reads them")
struct TokenIdRangeTests {
    /// A WordPiece tokenizer.json with `vocab` ids, `added` tokens and a `post` processor.
    func json(vocabId: UInt64 = 1, added: String = "[]", post: String = "null") -> String {
        #"{"added_tokens":"# + added + #","pre_tokenizer":{"type":"BertPreTokenizer"},"post_processor":"# + post
            + #","model":{"type":"WordPiece","vocab":{"[UNK]":0,"a":"# + String(vocabId) + "}}}"
    }

    @Test(
        "Ids up to 2^32 − 1 load and 2^32 is refused, in the vocabulary, added tokens and post-processors (tokenizers 0.22.2: u32)"
    )
    func range() throws {
        let largest: UInt64 = 4_294_967_295
        let addedToken = { (id: UInt64) in
            #"[{"id":"# + String(id)
                + #","content":"[X]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}]"#
        }
        let bert = { (id: UInt64) in
            #"{"type":"BertProcessing","sep":["[SEP]","# + String(id) + #"],"cls":["[CLS]",1]}"#
        }
        let template = { (id: UInt64) in
            #"{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],"special_tokens":{"[CLS]":{"id":"[CLS]","ids":["#
                + String(id) + "]}}}"
        }
        for (label, file) in [
            ("vocab", { json(vocabId: $0) }), ("added", { json(added: addedToken($0)) }),
            ("BertProcessing", { json(post: bert($0)) }), ("TemplateProcessing", { json(post: template($0)) }),
        ] as [(String, (UInt64) -> String)] {
            #expect(try loadError(["tokenizer.json": file(largest)]) == nil, "\(label) at 2^32 − 1")
            let error = try loadError(["tokenizer.json": file(largest + 1)])
            #expect(
                error?.description.contains("4294967295") == true, "\(label): \(error.map(\.description) ?? "accepted")"
            )
        }
    }
}
