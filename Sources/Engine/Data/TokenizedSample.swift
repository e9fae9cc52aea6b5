/// ms-swift's `truncation_strategy`: what happens to a sample longer than `max_length`.
public enum TruncationStrategy: String, Sendable, CaseIterable {
    /// The sample is left out (and counted).
    case delete
    /// The start is cut off: the last `max_length` tokens are kept.
    case left
    /// The end is cut off: the first `max_length` tokens are kept.
    case right
}

/// Token ids and labels for training, aligned as HF's are: `labels[i]` is `ids[i]` where that
/// token carries loss and −100 elsewhere (the model shifts them by one when it computes loss).
/// A packed sample holds several sequences one after the other; `sequenceLengths` says how long
/// each is, so attention and loss stay inside each.
public struct TokenizedSample: Equatable, Sendable {
    public static let ignoreIndex = -100

    public var ids: [Int]
    public var labels: [Int]
    public var sequenceLengths: [Int]

    public init(ids: [Int], labels: [Int], sequenceLengths: [Int]? = nil) {
        precondition(ids.count == labels.count)
        self.ids = ids
        self.labels = labels
        self.sequenceLengths = sequenceLengths ?? [ids.count]
        precondition(self.sequenceLengths.reduce(0, +) == ids.count, "sequence lengths must add up to the sample's length")
    }

    public var count: Int { ids.count }
    /// How many tokens carry loss.
    public var lossTokenCount: Int { labels.filter { $0 != TokenizedSample.ignoreIndex }.count }
}

/// Turns conversations into training samples with a model's chat template (or, for `pt`, the
/// generation template: the texts one after the other, then the end-of-sequence token).
public struct SampleEncoder {
    public let model: LoadedModel
    /// `max_length`; nil for no limit.
    public var maxLength: Int?
    public var truncation: TruncationStrategy = .delete
    public var lossScale: LossScale = .default
    /// `system`: used when a conversation has no system message of its own.
    public var system: String?
    /// `use_chat_template` (false for `pt`).
    public var useChatTemplate = true

    public init(model: LoadedModel, maxLength: Int? = nil, truncation: TruncationStrategy = .delete,
                lossScale: LossScale = .default, system: String? = nil, useChatTemplate: Bool = true) {
        self.model = model
        self.maxLength = maxLength
        self.truncation = truncation
        self.lossScale = lossScale
        self.system = system
        self.useChatTemplate = useChatTemplate
    }

    /// The sample, or nil when it is longer than `max_length` and the strategy is `delete`.
    public func encode(_ conversation: Conversation) throws -> TokenizedSample? {
        if case .sample(let s) = try encodeChecked(conversation) { return s }
        return nil
    }

    /// What a row gives: a sample, or the length that `delete` refuses.
    enum Encoded {
        case sample(TokenizedSample)
        case tooLong(tokens: Int)
    }

    func encodeChecked(_ conversation: Conversation) throws -> Encoded {
        var ids: [Int], carries: [Bool]
        if useChatTemplate {
            let t = try model.trainingTokens(conversation.messages, system: system, lossScale: lossScale)
            (ids, carries) = (t.ids, t.carriesLoss)
            try applyLossOverrides(conversation, ids: ids, carries: &carries)
        } else {
            (ids, carries) = generationTokens(conversation.messages)
        }
        if let max = maxLength, ids.count > max {
            switch truncation {
            case .delete: return .tooLong(tokens: ids.count)
            case .left: ids = Array(ids.suffix(max)); carries = Array(carries.suffix(max))
            case .right: ids = Array(ids.prefix(max)); carries = Array(carries.prefix(max))
            }
        }
        return .sample(TokenizedSample(ids: ids, labels: zip(ids, carries).map { $1 ? $0 : TokenizedSample.ignoreIndex }))
    }

    /// A row as `strict` decides: its sample, or (strict false) why it is left out. With strict
    /// true a row longer than `max_length` under `delete`, or one that cannot be tokenized, is
    /// an error naming its file and line (as ms-swift raises unless `strict` is false).
    public func encode(_ row: Conversation, strict: Bool) throws -> RowEncoding {
        let encoded: Encoded
        do {
            encoded = try encodeChecked(row)
        } catch {
            let reason = "cannot be tokenized: \(error)"
            if strict { throw DatasetError(file: row.file, line: row.line, problem: reason + " (strict false leaves such rows out)") }
            return .dropped(DroppedRow(file: row.file, line: row.line, reason: reason))
        }
        switch encoded {
        case .sample(let s):
            return .sample(s)
        case .tooLong(let n):
            let reason = "longer than max_length \(maxLength ?? 0) tokens (truncation_strategy delete)"
            if strict {
                throw DatasetError(file: row.file, line: row.line, problem: "the sample is \(n) tokens, \(reason); raise "
                    + "max_length, cut it with truncation_strategy left or right, or set strict false to leave such rows out")
            }
            return .dropped(DroppedRow(file: row.file, line: row.line, reason: reason))
        }
    }

    /// A reply's span is what `last_round` marks in the conversation cut after that reply, whose
    /// tokens begin the whole conversation's tokens.
    private func applyLossOverrides(_ c: Conversation, ids: [Int], carries: inout [Bool]) throws {
        for (index, flag) in c.lossOverrides.sorted(by: { $0.key < $1.key }) {
            let cut = try model.trainingTokens(Array(c.messages[...index]), system: system, lossScale: .lastRound)
            guard cut.ids.count <= ids.count, ids.starts(with: cut.ids) else {
                throw LossMaskError(message: "\(c.file):\(c.line): cannot find the tokens of message \(index + 1) to apply its 'loss'")
            }
            for (t, marked) in cut.carriesLoss.enumerated() where marked { carries[t] = flag }
        }
    }

    /// The generation template (`{{QUERY}}` and the reply, then EOS): the user's text carries no
    /// loss unless `loss_scale` is `all`; the reply and EOS do. System messages are not rendered.
    private func generationTokens(_ messages: [ChatMessage]) -> ([Int], [Bool]) {
        let tok = model.tokenizer
        var ids: [Int] = [], carries: [Bool] = []
        if tok.addBOS, let bos = tok.bosId { ids.append(bos); carries.append(lossScale == .all) }
        let lastAssistant = messages.lastIndex { $0.role == "assistant" }
        for (i, m) in messages.enumerated() where m.role != "system" {
            let part = tok.encode(m.content, addSpecialTokens: false, parseSpecial: false)
            let loss = lossScale == .all || (m.role == "assistant" && (lossScale != .lastRound || i == lastAssistant))
            ids += part
            carries += Array(repeating: loss, count: part.count)
        }
        if let eos = tok.eosId { ids.append(eos); carries.append(true) }
        return (ids, carries)
    }
}

/// A row after `SampleEncoder.encode(_:strict:)`.
public enum RowEncoding: Equatable {
    case sample(TokenizedSample)
    /// Left out: longer than max_length under `delete`, or not tokenizable (strict false).
    case dropped(DroppedRow)
}

/// A dataset's samples after tokenizing, with the rows left out while tokenizing.
public struct EncodedDataset {
    public var samples: [TokenizedSample]
    public var deletedRows: [DroppedRow]
}

extension Dataset {
    /// Tokenizes every row (what ms-swift does up front unless `lazy_tokenize`). With `strict`
    /// a row that is too long or cannot be tokenized is an error naming its file and line.
    public func encodeAll(_ encoder: SampleEncoder, strict: Bool = false) throws -> EncodedDataset {
        var out = EncodedDataset(samples: [], deletedRows: [])
        out.samples.reserveCapacity(rows.count)
        for row in rows {
            switch try encoder.encode(row, strict: strict) {
            case .sample(let s): out.samples.append(s)
            case .dropped(let d): out.deletedRows.append(d)
            }
        }
        return out
    }
}
