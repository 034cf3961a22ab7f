// Byte-pair encoding as in `tokenizers` (models/bpe): a word starts as one symbol per character, then the
// adjacent pair with the lowest merge rank is merged (leftmost first among equal ranks) until no pair of the
// merge list remains.

/// The BPE model of GPT-2 style tokenizers.
public struct BytePairModel: Sendable {
    /// Token (UTF-8 bytes) to id.
    public let vocabulary: [TokenBytes: Int]
    /// (left id, right id) packed into 64 bits → (rank, merged id).
    let merges: [UInt64: (rank: Int, id: Int)]
    /// The id of `unk_token`, when the model has one; characters outside the vocabulary are dropped otherwise.
    public let unknownId: Int?
    /// Merge consecutive unknown characters into one unknown token.
    public let fuseUnknown: Bool
    /// Take a word that is itself in the vocabulary whole, without merging.
    public let ignoreMerges: Bool

    /// - Parameters:
    ///   - merges: the merge list in rank order, each as (left, right).
    ///   - file: the file the merges came from, for errors.
    /// - Throws: `TokenizerError` when a merge names a token missing from the vocabulary.
    public init(
        vocabulary: [TokenBytes: Int], merges: [(String, String)], unknownToken: String?,
        fuseUnknown: Bool = false, ignoreMerges: Bool = false, file: String
    ) throws {
        var table: [UInt64: (rank: Int, id: Int)] = [:]
        table.reserveCapacity(merges.count)
        for (rank, merge) in merges.enumerated() {
            let left = Array(merge.0.utf8), right = Array(merge.1.utf8)
            guard let leftId = vocabulary[left], let rightId = vocabulary[right] else {
                let missing = vocabulary[left] == nil ? merge.0 : merge.1
                throw tokenizerError(
                    file: file, field: "merges[\(rank)]",
                    "merge '\(merge.0) \(merge.1)' uses '\(missing)', which is not in the vocabulary; the merges do not belong to this vocabulary"
                )
            }
            guard let mergedId = vocabulary[left + right] else {
                throw tokenizerError(
                    file: file, field: "merges[\(rank)]",
                    "merge '\(merge.0) \(merge.1)' makes '\(merge.0)\(merge.1)', which is not in the vocabulary; the merges do not belong to this vocabulary"
                )
            }
            let key = Self.pairKey(leftId, rightId)
            table[key] = (rank, mergedId)  // a repeated merge takes its last rank, as in `tokenizers`
        }
        if let unknownToken, vocabulary[Array(unknownToken.utf8)] == nil {
            throw tokenizerError(
                file: file, field: "unk_token",
                "the unknown token '\(unknownToken)' is not in the vocabulary; add it or set unk_token to null")
        }
        self.vocabulary = vocabulary
        self.merges = table
        self.unknownId = unknownToken.flatMap { vocabulary[Array($0.utf8)] }
        self.fuseUnknown = fuseUnknown
        self.ignoreMerges = ignoreMerges
    }

    static func pairKey(_ left: Int, _ right: Int) -> UInt64 {
        UInt64(UInt32(truncatingIfNeeded: left)) << 32 | UInt64(UInt32(truncatingIfNeeded: right))
    }

    /// Appends the ids of one pre-tokenised word.
    public func tokenize(_ word: String, into ids: inout [Int]) {
        if ignoreMerges, let id = vocabulary[Array(word.utf8)] {
            ids.append(id)
            return
        }
        var symbols: [Int] = []
        var previousUnknown = false
        for scalar in word.unicodeScalars {
            if let id = vocabulary[Array(String(scalar).utf8)] {
                symbols.append(id)
                previousUnknown = false
            } else if let unknownId {
                if !(fuseUnknown && previousUnknown) { symbols.append(unknownId) }
                previousUnknown = true
            }
        }
        while symbols.count > 1 {
            var best: (index: Int, rank: Int, id: Int)?
            for index in 0..<(symbols.count - 1) {
                if let merge = merges[Self.pairKey(symbols[index], symbols[index + 1])],
                    merge.rank < (best?.rank ?? .max)
                {
                    best = (index, merge.rank, merge.id)
                }
            }
            guard let best else { break }
            symbols[best.index] = best.id
            symbols.remove(at: best.index + 1)
        }
        ids.append(contentsOf: symbols)
    }
}
