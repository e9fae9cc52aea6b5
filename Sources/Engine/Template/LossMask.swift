/// Which tokens of a rendered conversation carry loss (ms-swift's `loss_scale`, binary cases).
public enum LossScale: String, Sendable, CaseIterable {
    /// Every assistant reply, with the template's end-of-turn text after it.
    case `default`
    /// Only the last assistant reply.
    case lastRound = "last_round"
    /// Every token.
    case all
    /// As `default`, but an empty think block at the start of a reply carries none.
    case ignoreEmptyThink = "ignore_empty_think"
}

/// A conversation as the model sees it in training: ids, and for each whether it carries loss.
public struct TrainingTokens: Equatable, Sendable {
    public var text: String
    public var ids: [Int]
    public var carriesLoss: [Bool]
}

public struct LossMaskError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

extension LoadedModel {
    /// Renders `messages` with the chat template and marks the tokens of the assistant replies.
    ///
    /// A reply's span runs from the end of the prompt that asks for it (the conversation before
    /// it, rendered with the generation prompt) to the end of the conversation rendered through
    /// it, so it includes the template's end-of-turn marker, as ms-swift's templates do.
    public func trainingTokens(_ messages: [ChatMessage], system: String? = nil, lossScale: LossScale = .default) throws -> TrainingTokens {
        let full = try renderPrompt(messages, system: system, addGenerationPrompt: false)
        let fullBytes = Array(full.utf8)
        var spans: [Range<Int>] = []
        for (i, m) in messages.enumerated() where m.role == "assistant" {
            let before = Array(try renderPrompt(Array(messages[..<i]), system: system, addGenerationPrompt: true).utf8)
            let through = Array(try renderPrompt(Array(messages[...i]), system: system, addGenerationPrompt: false).utf8)
            guard fullBytes.starts(with: before), fullBytes.starts(with: through), before.count <= through.count else {
                throw LossMaskError(message: "the chat template renders the conversation differently when it is cut after message \(i); cannot tell which tokens are the reply")
            }
            var start = before.count
            if lossScale == .ignoreEmptyThink {
                let empty = Array("<think>\n\n</think>\n\n".utf8)
                if Array(fullBytes[start..<through.count]).starts(with: empty) { start += empty.count }
            }
            spans.append(start..<through.count)
        }
        if lossScale == .lastRound, let last = spans.last { spans = [last] }
        let ids = promptIds(full)
        var carries: [Bool] = []
        var offset = 0
        // Tokens decode to exactly the bytes of the text, so their byte offsets add up.
        let bosOffset = (ids.first == tokenizer.bosId && !full.utf8.starts(with: tokenizer.tokenBytes(ids[0]))) ? 1 : 0
        for (t, id) in ids.enumerated() {
            if t < bosOffset { carries.append(lossScale == .all); continue }
            let start = offset
            offset += tokenizer.tokenBytes(id).count
            carries.append(lossScale == .all || spans.contains { $0.contains(start) })
        }
        return TrainingTokens(text: full, ids: ids, carriesLoss: carries)
    }
}
