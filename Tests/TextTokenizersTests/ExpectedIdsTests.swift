// Every fixture text through every tokenizer, from both file sources, against the ids Hugging Face
// `tokenizers` 0.22.2 gave (tools/make_tokenizer_fixtures.py).
import Checkpoints
import ConvertKit
import Foundation
import Testing
import TestSupport
import TextTokenizers

/// expected_ids.json: the texts and, per tokenizer, one id list per text.
struct ExpectedIds {
    let texts: [String]
    let ids: [String: [[Int]]]

    static func load() throws -> ExpectedIds {
        let path = Fixtures.path("tokenizers/expected_ids.json")
        let root = try Fixtures.bytes(path).withUnsafeBytes { try JSONValue.parse($0) }
        guard case .array(let textValues)? = root["texts"], case .object(let tokenizers)? = root["tokenizers"] else {
            throw CheckpointError(.corrupt, file: path, "expected 'texts' and 'tokenizers'")
        }
        var ids: [String: [[Int]]] = [:]
        for (name, perText) in tokenizers {
            guard case .array(let lists) = perText else { throw CheckpointError(.corrupt, file: path, "bad \(name)") }
            ids[name] = try lists.map { list in
                guard case .array(let numbers) = list else {
                    throw CheckpointError(.corrupt, file: path, "bad \(name)")
                }
                return numbers.compactMap(\.integerValue)
            }
        }
        return ExpectedIds(
            texts: try textValues.map {
                guard let text = $0.stringValue else { throw CheckpointError(.corrupt, file: path, "bad text") }
                return text
            }, ids: ids)
    }

    /// Compares every text; returns a description of each mismatch.
    func mismatches(_ tokenizer: any TextTokenizer, name: String) -> [String] {
        guard let expected = ids[name], expected.count == texts.count else { return ["no expected ids for \(name)"] }
        return zip(texts, expected).compactMap { text, want in
            let got = tokenizer.encode(text)
            return got == want ? nil : "\(name): \(text.debugDescription.prefix(80)) gave \(got) instead of \(want)"
        }
    }
}

/// Copies `files` of a fixture folder into a fresh temporary folder, so only those files can be picked.
func folder(with files: [String], from source: String) throws -> String {
    let folder = try Fixtures.temporaryFolder()
    for file in files { try FileManager.default.copyItem(atPath: "\(source)/\(file)", toPath: "\(folder)/\(file)") }
    return folder
}

@Suite("Token ids match Hugging Face tokenizers")
struct ExpectedIdsTests {
    let expected: ExpectedIds

    init() throws { expected = try ExpectedIds.load() }

    @Test("the fixture covers the tricky texts and every tokenizer")
    func fixtureIsComplete() {
        #expect(expected.texts.count >= 40)
        #expect(expected.texts.contains(""))
        #expect(expected.texts.contains { $0.unicodeScalars.count > 100 && !$0.contains(" ") })
        for name in [
            "minilm", "bpe-small", "bpe-small-prefix", "bpe-small-added", "wordpiece-cased", "wordpiece-added",
        ] {
            #expect(expected.ids[name]?.count == expected.texts.count, "\(name)")
        }
    }

    @Test(
        "MiniLM from tokenizer.json",
        .enabled(
            if: Fixtures.hasMiniLM("tokenizer.json"),
            "all-MiniLM-L6-v2 is absent from .cache/minilm/model: run tools/fetch-minilm.sh (make test does)"))
    func miniLMTokenizerJSON() throws {
        let folder = try folder(with: ["tokenizer.json"], from: Fixtures.miniLM)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try TokenizerSource.find(in: folder) == .tokenizerJSON("\(folder)/tokenizer.json"))
        #expect(expected.mismatches(try loadTokenizer(folder: folder), name: "minilm") == [])
    }

    @Test(
        "MiniLM from vocab.txt and tokenizer_config.json",
        .enabled(
            if: Fixtures.hasMiniLM("vocab.txt"),
            "all-MiniLM-L6-v2 is absent from .cache/minilm/model: run tools/fetch-minilm.sh (make test does)"))
    func miniLMVocabularyText() throws {
        let folder = try folder(
            with: ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json"], from: Fixtures.miniLM)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try TokenizerSource.find(in: folder) == .bertVocabulary("\(folder)/vocab.txt"))
        #expect(expected.mismatches(try loadTokenizer(folder: folder), name: "minilm") == [])
    }

    @Test("the small byte-level BPE from tokenizer.json")
    func bpeTokenizerJSON() throws {
        let tokenizer = try loadTokenizer(folder: Fixtures.path("tokenizers/bpe-small"))
        #expect(expected.mismatches(tokenizer, name: "bpe-small") == [])
    }

    @Test("the small byte-level BPE from vocab.json and merges.txt")
    func bpeVocabularyAndMerges() throws {
        let folder = try folder(with: ["vocab.json", "merges.txt"], from: Fixtures.path("tokenizers/bpe-small"))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(
            try TokenizerSource.find(in: folder)
                == .gpt2Vocabulary(vocabulary: "\(folder)/vocab.json", merges: "\(folder)/merges.txt"))
        #expect(expected.mismatches(try loadTokenizer(folder: folder), name: "bpe-small") == [])
    }

    @Test("the small byte-level BPE with add_prefix_space")
    func bpeWithPrefixSpace() throws {
        let tokenizer = try loadTokenizer(folder: Fixtures.path("tokenizers/bpe-small-prefix"))
        #expect(expected.mismatches(tokenizer, name: "bpe-small-prefix") == [])
    }

    @Test("added tokens with lstrip, rstrip, single_word and normalized matching, in a BPE and a WordPiece")
    func addedTokenOptions() throws {
        for name in ["bpe-small-added", "wordpiece-added"] {
            let tokenizer = try PipelineTokenizer(tokenizerJSON: Fixtures.path("tokenizers/\(name)/tokenizer.json"))
            #expect(expected.mismatches(tokenizer, name: name) == [])
        }
    }

    @Test("the cased WordPiece (no lowercasing, no accent stripping) from tokenizer.json")
    func casedWordPieceTokenizerJSON() throws {
        let tokenizer = try PipelineTokenizer(tokenizerJSON: Fixtures.path("tokenizers/wordpiece-cased/tokenizer.json"))
        #expect(
            tokenizer.normalizer
                == BertNormalizer(cleanText: true, handleChineseChars: true, stripAccents: false, lowercase: false))
        #expect(expected.mismatches(tokenizer, name: "wordpiece-cased") == [])
    }

    @Test("the cased WordPiece from vocab.txt and tokenizer_config.json")
    func casedWordPieceVocabularyText() throws {
        let folder = try folder(
            with: ["vocab.txt", "tokenizer_config.json"], from: Fixtures.path("tokenizers/wordpiece-cased"))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(expected.mismatches(try loadTokenizer(folder: folder), name: "wordpiece-cased") == [])
    }
}
