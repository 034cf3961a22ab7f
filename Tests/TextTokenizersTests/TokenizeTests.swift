// The pieces `rmt-convert tokenize` is made of, the folder policy, and load times.
import ConvertKit
import Foundation
import Testing
import TestSupport
@testable import TextTokenizers

@Suite("Tokenize: folder policy, output format and speed")
struct TokenizeTests {
    @Test("tokenizer.json wins over the vocabulary files")
    func tokenizerJSONWins() throws {
        let source = Fixtures.path("tokenizers/bpe-small")
        #expect(try TokenizerSource.find(in: source) == .tokenizerJSON("\(source)/tokenizer.json"))
    }

    @Test("ids print space-separated or as a JSON array")
    func formatting() {
        #expect(formatTokenIds([101, 7592, 102], json: false) == "101 7592 102\n")
        #expect(formatTokenIds([101, 7592, 102], json: true) == "[101,7592,102]\n")
        #expect(formatTokenIds([], json: true) == "[]\n")
        #expect(formatTokenIds([], json: false) == "\n")
    }

    @Test("the GPT-2 regex scanner keeps the look-ahead's split of whitespace runs")
    func whitespaceRuns() {
        func pieces(_ text: String) -> [String] {
            let scalars = Array(text.unicodeScalars)
            return ByteLevelPreTokenizer.gpt2Pieces(scalars).map { String(String.UnicodeScalarView(scalars[$0])) }
        }
        // `\s+(?!\S)` leaves the last space of a run to the word after it.
        #expect(pieces("a   b") == ["a", "  ", " b"])
        #expect(pieces("a  b") == ["a", " ", " b"])
        #expect(pieces("a\n\nb") == ["a", "\n", "\n", "b"])
        #expect(pieces("a \n b") == ["a", " \n", " b"])
        #expect(pieces("a\tb") == ["a", "\t", "b"])
        #expect(pieces("end  ") == ["end", "  "])
        #expect(pieces("it's 'S") == ["it", "'s", " '", "S"])
    }

    @Test("MiniLM loads from tokenizer.json and vocab.txt in well under a second each")
    func loadTimes() throws {
        try #require(FileManager.default.fileExists(atPath: Fixtures.miniLM + "/tokenizer.json"),
                     "run tools/fetch-minilm.sh (make test does) to fetch all-MiniLM-L6-v2")
        let clock = ContinuousClock()
        var json: PipelineTokenizer?
        let jsonTime = try clock.measure { json = try PipelineTokenizer(tokenizerJSON: Fixtures.miniLM + "/tokenizer.json") }
        var text: PipelineTokenizer?
        let textTime = try clock.measure {
            text = try PipelineTokenizer(bertVocabulary: Fixtures.miniLM + "/vocab.txt", settings: TokenizerSettings(folder: Fixtures.miniLM))
        }
        let tokenizer = try #require(json)
        #expect(tokenizer.model.vocabulary.count == 30522)
        #expect(text?.model.vocabulary.count == 30522)
        #expect(tokenizer.id(of: "[CLS]") == 101)
        let paragraph = String(repeating: "Recurrent memory transformers read long documents, segment by segment. ", count: 200)
        var ids: [Int] = []
        let encodeTime = clock.measure { ids = tokenizer.encode(paragraph) }
        #expect(ids.count > 2000)
        print("MiniLM tokenizer.json load \(jsonTime), vocab.txt load \(textTime), encode \(paragraph.utf8.count) bytes → \(ids.count) ids \(encodeTime)")
        #expect(jsonTime < .seconds(1))
        #expect(textTime < .seconds(1))
    }
}
