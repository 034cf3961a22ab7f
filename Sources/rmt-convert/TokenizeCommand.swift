import ArgumentParser
import ConvertKit

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of a text with a checkpoint folder's tokenizer.",
        discussion: "Uses tokenizer.json when the folder has one, else vocab.txt (BERT WordPiece), else vocab.json + "
            + "merges.txt (GPT-2 byte-level BPE). Special tokens are added as transformers' tokenizer(text) adds them "
            + "([CLS] … [SEP] for BERT, none for GPT-2); nothing is truncated or padded. The ids are those of Hugging Face "
            + "tokenizers 0.22.")

    @Argument(help: "A checkpoint folder holding tokenizer files.")
    var model: String

    @Option(help: "The text to tokenize.")
    var text: String?

    @Option(help: "A UTF-8 file whose whole content is tokenized.")
    var file: String?

    @Flag(help: "Print a JSON array instead of space-separated ids.")
    var json = false

    func validate() throws {
        if (text == nil) == (file == nil) { throw ValidationError("Pass exactly one of --text and --file.") }
    }

    func run() throws {
        try reportingErrors {
            printOut(formatTokenIds(try tokenizeText(folder: model, text: text, file: file), json: json))
        }
    }
}
