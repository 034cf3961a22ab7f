// The error type of the model layer: bad configs, weights that do not fit the model, and bad inputs.

/// A failure building or running a model. `description` is one line naming the file, the field or tensor,
/// what is wrong (expected versus actual) and what to do.
public struct ModelError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// `config.json` is missing a usable value, or asks for something this build does not support.
        case configuration
        /// The checkpoint's tensors do not match the model: missing, unexpected, wrong shape, untied.
        case weights
        /// Inputs (ids, masks, embeddings) that do not fit the model.
        case input
        /// A system library the model needs (OpenBLAS) cannot be loaded.
        case system
    }

    public let kind: Kind
    /// The file (config, weights or input) the error is about.
    public let file: String
    /// The field or tensor concerned, when there is one.
    public let field: String?
    /// What is wrong and what to do.
    public let message: String

    public init(_ kind: Kind, file: String, field: String? = nil, _ message: String) {
        self.kind = kind
        self.file = file
        self.field = field
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}
