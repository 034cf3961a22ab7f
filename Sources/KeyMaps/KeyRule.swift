// One row of a name map: a PyTorch key pattern, its TF counterpart and what happens to the tensor.

/// What a mapped tensor undergoes between the PyTorch and the TF layout (docs/FORMATS.md §3.2–3.5).
public enum KeyTransform: String, Sendable, Equatable {
    /// Same bytes, same shape.
    case none
    /// `nn.Linear` weight [out, in] ↔ Keras kernel [in, out].
    case transpose
    /// GPT-2 Conv1D bias [n] ↔ TF [1, n].
    case reshapeBias = "reshape bias"
}

/// What a rule does with a key it matches.
public enum KeyAction: Sendable, Equatable {
    /// Stored under the other name, after the transform.
    case map(KeyTransform)
    /// Not stored: an alias of the PyTorch key `to` (tied weights; the TF model reuses that tensor), present
    /// when the checkpoint has the key `when` (the head the tie belongs to).
    case tie(to: String, when: String)
    /// A buffer loaders ignore (§4.3): not stored, listed in the report.
    case drop
}

/// An anchored key pattern. Templates are literal text in which `{i}` stands for a layer index; they compile
/// to a regular expression with every other character escaped (`.` matches only a dot) and anchors at both
/// ends, so `h.{i}.attn.bias` never matches `h.0.attn.c_attn.bias`.
public struct KeyPattern: Sendable, Equatable {
    /// The template text, e.g. `bert.encoder.layer.{i}.attention.self.query.weight`.
    public let template: String

    public init(_ template: String) { self.template = template }

    /// The anchored regular expression source (`^bert\.encoder\.layer\.([0-9]+)\.…$`).
    public var regexSource: String {
        var out = "^"
        var rest = Substring(template)
        while let r = rest.firstRange(of: "{i}") {
            out += Self.escaped(rest[..<r.lowerBound]) + "([0-9]+)"
            rest = rest[r.upperBound...]
        }
        return out + Self.escaped(rest) + "$"
    }

    static func escaped(_ text: Substring) -> String {
        var out = ""
        for c in text {
            if "\\^$.|?*+()[]{}/-".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// Fills `{i}` placeholders with `indices`, in order.
    func render(_ indices: [Substring]) -> String {
        var out = ""
        var rest = Substring(template)
        var next = indices.makeIterator()
        while let r = rest.firstRange(of: "{i}") {
            out += rest[..<r.lowerBound]
            out += next.next() ?? "{i}"
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}

/// One row of a map: PyTorch key ↔ TF name (the weight name without its first, model-name component).
public struct KeyRule: Sendable, Equatable {
    /// The Hugging Face PyTorch key pattern.
    public let pytorch: KeyPattern
    /// The TF pattern (`bert/encoder/layer_._{i}/…/kernel:0`), nil for ties and drops.
    public let tf: KeyPattern?
    /// What happens to the tensor.
    public let action: KeyAction
    /// True for rows accepted when reading TF names only (alternate spellings such as `wte/embeddings:0`).
    public let readOnly: Bool

    public init(pytorch: String, tf: String?, action: KeyAction, readOnly: Bool = false) {
        self.pytorch = KeyPattern(pytorch)
        self.tf = tf.map(KeyPattern.init)
        self.action = action
        self.readOnly = readOnly
    }

    /// A mapped row.
    public static func map(_ pytorch: String, _ tf: String, _ transform: KeyTransform = .none, readOnly: Bool = false)
        -> KeyRule
    {
        KeyRule(pytorch: pytorch, tf: tf, action: .map(transform), readOnly: readOnly)
    }

    /// The two rows of a dense layer: weight ↔ kernel (transposed), bias ↔ bias.
    public static func linear(_ pytorch: String, _ tf: String) -> [KeyRule] {
        [.map("\(pytorch).weight", "\(tf)/kernel:0", .transpose), .map("\(pytorch).bias", "\(tf)/bias:0")]
    }

    /// The two rows of a LayerNorm: weight ↔ gamma, bias ↔ beta.
    public static func layerNorm(_ pytorch: String, _ tf: String) -> [KeyRule] {
        [.map("\(pytorch).weight", "\(tf)/gamma:0"), .map("\(pytorch).bias", "\(tf)/beta:0")]
    }

    /// The two rows of a GPT-2 Conv1D: weight copied, bias [n] ↔ [1, n].
    public static func conv1D(_ pytorch: String, _ tf: String) -> [KeyRule] {
        [.map("\(pytorch).weight", "\(tf)/weight:0"), .map("\(pytorch).bias", "\(tf)/bias:0", .reshapeBias)]
    }

    /// The kinds of layer a rule table lists.
    public enum LayerKind: Sendable {
        case linear, layerNorm, conv1D
    }

    /// The rows of `layers` (kind, path below the prefixes), in order; a layer's TF path is its PyTorch path with
    /// `/` for `.` (`attention.self.query` ↔ `attention/self/query`).
    public static func layers(_ layers: [(LayerKind, String)], pytorch: String, tf: String) -> [KeyRule] {
        layers.flatMap { kind, path -> [KeyRule] in
            let (p, t) = ("\(pytorch).\(path)", "\(tf)/\(path.replacing(".", with: "/"))")
            switch kind {
            case .linear: return linear(p, t)
            case .layerNorm: return layerNorm(p, t)
            case .conv1D: return conv1D(p, t)
            }
        }
    }
}
