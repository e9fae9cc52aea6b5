/// `padding_side`.
public enum PaddingSide: String, Sendable, CaseIterable { case left, right }

/// A batch laid out as `rows × width` token ids. `segments[r]` lists, for row `r`, the column
/// ranges of the sequences it holds: attention must stay inside one segment, and columns in no
/// segment are padding. `positionIds` restart at 0 in each segment.
public struct Batch: Equatable {
    public var rows: Int
    public var width: Int
    public var inputIds: [Int]
    public var labels: [Int]
    public var positionIds: [Int]
    /// 1 for a real token, 0 for padding.
    public var attentionMask: [Int]
    public var segments: [[Range<Int>]]

    /// Tokens that are not padding.
    public var tokenCount: Int { attentionMask.reduce(0, +) }
}

/// Groups samples into batches: padded rows (`padding_side`), or one flattened row with no
/// padding (`padding_free`, and how `packing`'s packs are batched, as in ms-swift).
public struct Batcher {
    public var padId: Int
    public var paddingSide: PaddingSide
    /// `padding_free` (or `packing`): flatten the samples of a batch into one row.
    public var flatten: Bool

    public init(padId: Int, paddingSide: PaddingSide = .right, flatten: Bool = false) {
        self.padId = padId
        self.paddingSide = paddingSide
        self.flatten = flatten
    }

    /// The pad id ms-swift uses: the tokenizer's pad token, else its end-of-sequence token.
    public init(model: LoadedModel, paddingSide: PaddingSide = .right, flatten: Bool = false) {
        self.init(padId: model.tokenizer.padId ?? model.tokenizer.eosId ?? 0, paddingSide: paddingSide, flatten: flatten)
    }

    public func batch(_ samples: [TokenizedSample]) -> Batch {
        if flatten { return flattened(samples) }
        let width = samples.map(\.count).max() ?? 0
        var b = Batch(rows: samples.count, width: width, inputIds: [], labels: [], positionIds: [], attentionMask: [], segments: [])
        for s in samples {
            let pad = width - s.count
            let start = paddingSide == .left ? pad : 0
            var ids = Array(repeating: padId, count: width)
            var labels = Array(repeating: TokenizedSample.ignoreIndex, count: width)
            var mask = Array(repeating: 0, count: width)
            var positions = Array(repeating: 0, count: width)
            var segs: [Range<Int>] = []
            var column = start
            for (k, length) in s.sequenceLengths.enumerated() {
                let offset = s.sequenceLengths[..<k].reduce(0, +)
                for j in 0..<length {
                    ids[column + j] = s.ids[offset + j]
                    labels[column + j] = j == 0 && k > 0 ? TokenizedSample.ignoreIndex : s.labels[offset + j]
                    mask[column + j] = 1
                    positions[column + j] = j
                }
                segs.append(column..<(column + length))
                column += length
            }
            b.inputIds += ids
            b.labels += labels
            b.attentionMask += mask
            b.positionIds += positions
            b.segments.append(segs)
        }
        return b
    }

    /// All sequences of all samples in one row. The first label of every sequence is −100 so
    /// that, after the model's shift, no token is predicted from the sequence before it (as HF's
    /// `DataCollatorWithFlattening` does).
    private func flattened(_ samples: [TokenizedSample]) -> Batch {
        var b = Batch(rows: 1, width: 0, inputIds: [], labels: [], positionIds: [], attentionMask: [], segments: [[]])
        for s in samples {
            var offset = 0
            for length in s.sequenceLengths {
                let start = b.inputIds.count
                b.inputIds += s.ids[offset..<(offset + length)]
                var labels = Array(s.labels[offset..<(offset + length)])
                if !labels.isEmpty { labels[0] = TokenizedSample.ignoreIndex }
                b.labels += labels
                b.positionIds += 0..<length
                b.segments[0].append(start..<(start + length))
                offset += length
            }
        }
        b.width = b.inputIds.count
        b.attentionMask = Array(repeating: 1, count: b.width)
        return b
    }

    /// `packing`: samples grouped into packs of at most `maxLength` tokens, first-fit over the
    /// samples sorted longest first (ties in dataset order), as the `binpacking` package's
    /// constant-volume packing that ms-swift uses. Each pack keeps its samples' boundaries.
    /// A sample longer than `maxLength` gets a pack of its own.
    public static func pack(_ samples: [TokenizedSample], maxLength: Int) -> [TokenizedSample] {
        let order = samples.indices.sorted { (samples[$0].count, $1) > (samples[$1].count, $0) }
        var bins: [[Int]] = [], fill: [Int] = []
        for i in order {
            let n = samples[i].count
            if let b = fill.firstIndex(where: { $0 + n <= maxLength }) {
                bins[b].append(i)
                fill[b] += n
            } else {
                bins.append([i])
                fill.append(n)
            }
        }
        return bins.map { members in
            var ids: [Int] = [], labels: [Int] = [], lengths: [Int] = []
            for i in members {
                ids += samples[i].ids
                labels += samples[i].labels
                lengths += samples[i].sequenceLengths
            }
            return TokenizedSample(ids: ids, labels: labels, sequenceLengths: lengths)
        }
    }
}
