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

    /// CPU seconds used by the calling thread: unlike wall time, not inflated by other builds on a shared machine.
    func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    @Test(
        "MiniLM loads from tokenizer.json and vocab.txt in well under a second of CPU time each",
        .enabled(
            if: Fixtures.hasMiniLM("tokenizer.json") && Fixtures.hasMiniLM("vocab.txt"),
            "all-MiniLM-L6-v2 is absent from .cache/minilm/model: run tools/fetch-minilm.sh (make test does)"))
    func loadTimes() throws {
        let start = threadCPUSeconds()
        let tokenizer = try PipelineTokenizer(tokenizerJSON: Fixtures.miniLM + "/tokenizer.json")
        let afterJSON = threadCPUSeconds()
        let fromText = try PipelineTokenizer(
            bertVocabulary: Fixtures.miniLM + "/vocab.txt", settings: TokenizerSettings(folder: Fixtures.miniLM))
        let afterText = threadCPUSeconds()
        #expect(tokenizer.model.vocabulary.count == 30522)
        #expect(fromText.model.vocabulary.count == 30522)
        #expect(tokenizer.id(of: "[CLS]") == 101)
        let paragraph = String(
            repeating: "Recurrent memory transformers read long documents, segment by segment. ", count: 200)
        let ids = tokenizer.encode(paragraph)
        let afterEncode = threadCPUSeconds()
        #expect(ids.count > 2000)
        print(
            "MiniLM CPU seconds: tokenizer.json load \(afterJSON - start), vocab.txt load \(afterText - afterJSON), "
                + "encode \(paragraph.utf8.count) bytes → \(ids.count) ids \(afterEncode - afterText)")
        #expect(afterJSON - start < 1)
        #expect(afterText - afterJSON < 1)
    }
}
