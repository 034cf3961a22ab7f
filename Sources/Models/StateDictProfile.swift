// Which transformers version a state dict is written for: the persistent buffers differ (docs/RMT.md §5.3).

/// Which transformers version's persistent buffers a state dict carries (docs/RMT.md §5.3).
public enum StateDictProfile: String, Codable, Sendable, CaseIterable {
    /// transformers ≥ 4.31: no `position_ids`, no GPT-2 mask buffers.
    case current
    /// 4.30: BERT `position_ids`; no GPT-2 mask buffers.
    case v4_30 = "4.30"
    /// ≈ 4.17: BERT `position_ids` and GPT-2 `attn.bias` / `attn.masked_bias`.
    case legacy
}
