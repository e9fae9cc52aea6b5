import XCTest
@testable import Engine

/// Samples for training on the real default model (labels decode to the replies), the three
/// truncation strategies, and batching: padding sides, padding-free rows and packing.
final class DatasetTokenizationTests: XCTestCase {
    private let conversation = Conversation(messages: [ChatMessage(role: "user", content: "Who are you?"),
                                                       ChatMessage(role: "assistant", content: "I am Tune, a small model.")])

    private func lossText(_ m: LoadedModel, _ s: TokenizedSample) -> String {
        m.tokenizer.decode(s.labels.filter { $0 != TokenizedSample.ignoreIndex })
    }

    func testLabelsAreTheAssistantReply() throws {
        let m = try SharedModels.smolLM2()
        let s = try XCTUnwrap(SampleEncoder(model: m).encode(conversation))
        XCTAssertEqual(lossText(m, s), "I am Tune, a small model.<|im_end|>\n")
        XCTAssertEqual(m.tokenizer.decode(s.ids), try m.renderPrompt(conversation.messages, addGenerationPrompt: false))
        // Labels are the ids themselves where they carry loss.
        for (id, label) in zip(s.ids, s.labels) where label != TokenizedSample.ignoreIndex { XCTAssertEqual(id, label) }
    }

    func testPerMessageLossFlagOverridesLossScale() throws {
        let m = try SharedModels.smolLM2()
        var c = Conversation(messages: [ChatMessage(role: "user", content: "Hi"), ChatMessage(role: "assistant", content: "Hello!"),
                                        ChatMessage(role: "user", content: "Bye"), ChatMessage(role: "assistant", content: "Goodbye.")])
        XCTAssertEqual(lossText(m, try XCTUnwrap(SampleEncoder(model: m).encode(c))), "Hello!<|im_end|>\nGoodbye.<|im_end|>\n")
        c.lossOverrides = [1: false]
        XCTAssertEqual(lossText(m, try XCTUnwrap(SampleEncoder(model: m).encode(c))), "Goodbye.<|im_end|>\n")
        c.lossOverrides = [1: true]
        XCTAssertEqual(lossText(m, try XCTUnwrap(SampleEncoder(model: m, lossScale: .lastRound).encode(c))), "Hello!<|im_end|>\nGoodbye.<|im_end|>\n")
    }

    func testTruncationStrategies() throws {
        let m = try SharedModels.smolLM2()
        let full = try XCTUnwrap(SampleEncoder(model: m).encode(conversation))
        let max = full.count - 5
        XCTAssertNil(try SampleEncoder(model: m, maxLength: max, truncation: .delete).encode(conversation))
        XCTAssertNotNil(try SampleEncoder(model: m, maxLength: full.count, truncation: .delete).encode(conversation))
        let left = try XCTUnwrap(SampleEncoder(model: m, maxLength: max, truncation: .left).encode(conversation))
        XCTAssertEqual(left.ids, Array(full.ids.suffix(max)))
        XCTAssertEqual(left.labels, Array(full.labels.suffix(max)))
        let right = try XCTUnwrap(SampleEncoder(model: m, maxLength: max, truncation: .right).encode(conversation))
        XCTAssertEqual(right.ids, Array(full.ids.prefix(max)))
        XCTAssertEqual(right.labels, Array(full.labels.prefix(max)))
    }

    func testEncodeAllCountsDeletedRows() throws {
        let m = try SharedModels.smolLM2()
        var o = DatasetOptions()
        o.shuffle = false
        let d = try Dataset.load(TestPaths.fixture("datasets/messages.jsonl"), options: o)
        let lengths = try d.rows.map { try XCTUnwrap(SampleEncoder(model: m).encode($0)).count }
        let limit = lengths.sorted()[1]   // keeps the two shortest rows
        let encoded = try d.encodeAll(SampleEncoder(model: m, maxLength: limit))
        XCTAssertEqual(encoded.samples.count, lengths.filter { $0 <= limit }.count)
        XCTAssertEqual(encoded.deletedRows.count, lengths.filter { $0 > limit }.count)
        XCTAssertEqual(encoded.deletedRows.first?.file, TestPaths.fixture("datasets/messages.jsonl"))
    }

    func testGenerationTemplateForPretraining() throws {
        let m = try SharedModels.smolLM2()
        let text = "The quick brown fox jumps over the lazy dog."
        let s = try XCTUnwrap(SampleEncoder(model: m, useChatTemplate: false)
            .encode(Conversation(messages: [ChatMessage(role: "assistant", content: text)])))
        let eos = try XCTUnwrap(m.tokenizer.eosId)
        XCTAssertEqual(s.ids, m.tokenizer.encode(text, addSpecialTokens: false, parseSpecial: false) + [eos])
        XCTAssertEqual(s.labels, s.ids)
        let qa = try XCTUnwrap(SampleEncoder(model: m, useChatTemplate: false).encode(conversation))
        XCTAssertEqual(lossText(m, qa), "I am Tune, a small model." + m.tokenizer.decode([eos]))
    }

    // MARK: batching, on hand-made samples

    private func sample(_ ids: [Int], lossFrom: Int) -> TokenizedSample {
        TokenizedSample(ids: ids, labels: ids.enumerated().map { $0.offset >= lossFrom ? $0.element : -100 })
    }

    func testPaddingSides() {
        let a = sample([1, 2, 3, 4], lossFrom: 2), b = sample([5, 6], lossFrom: 1)
        let right = Batcher(padId: 0, paddingSide: .right).batch([a, b])
        XCTAssertEqual(right.rows, 2)
        XCTAssertEqual(right.width, 4)
        XCTAssertEqual(right.inputIds, [1, 2, 3, 4, 5, 6, 0, 0])
        XCTAssertEqual(right.labels, [-100, -100, 3, 4, -100, 6, -100, -100])
        XCTAssertEqual(right.attentionMask, [1, 1, 1, 1, 1, 1, 0, 0])
        XCTAssertEqual(right.positionIds, [0, 1, 2, 3, 0, 1, 0, 0])
        XCTAssertEqual(right.segments, [[0..<4], [0..<2]])
        let left = Batcher(padId: 9, paddingSide: .left).batch([a, b])
        XCTAssertEqual(left.inputIds, [1, 2, 3, 4, 9, 9, 5, 6])
        XCTAssertEqual(left.labels, [-100, -100, 3, 4, -100, -100, -100, 6])
        XCTAssertEqual(left.attentionMask, [1, 1, 1, 1, 0, 0, 1, 1])
        XCTAssertEqual(left.positionIds, [0, 1, 2, 3, 0, 0, 0, 1])
        XCTAssertEqual(left.segments, [[0..<4], [2..<4]])
        XCTAssertEqual(left.tokenCount, 6)
    }

    func testPaddingFreeFlattensWithBoundaries() {
        let a = sample([1, 2, 3], lossFrom: 0), b = sample([4, 5], lossFrom: 0)
        let flat = Batcher(padId: 0, flatten: true).batch([a, b])
        XCTAssertEqual(flat.rows, 1)
        XCTAssertEqual(flat.inputIds, [1, 2, 3, 4, 5])
        // The first label of each sequence carries no loss: nothing is predicted across a boundary.
        XCTAssertEqual(flat.labels, [-100, 2, 3, -100, 5])
        XCTAssertEqual(flat.positionIds, [0, 1, 2, 0, 1])
        XCTAssertEqual(flat.segments, [[0..<3, 3..<5]])
        XCTAssertEqual(flat.attentionMask, [1, 1, 1, 1, 1])
    }

    func testPackingFillsBinsLongestFirst() {
        let lengths = [5, 3, 4, 2, 6]
        let samples = lengths.enumerated().map { i, n in sample(Array(repeating: i + 1, count: n), lossFrom: 0) }
        let packs = Batcher.pack(samples, maxLength: 8)
        // First fit over lengths 6, 5, 4, 3, 2: [6, 2], [5, 3], [4].
        XCTAssertEqual(packs.map(\.sequenceLengths), [[6, 2], [5, 3], [4]])
        XCTAssertEqual(packs[0].ids, Array(repeating: 5, count: 6) + [4, 4])
        XCTAssertTrue(packs.allSatisfy { $0.count <= 8 })
        XCTAssertEqual(packs.flatMap(\.ids).sorted(), samples.flatMap(\.ids).sorted())
        // A batch of packs keeps every sample's boundary.
        let batch = Batcher(padId: 0, flatten: true).batch(packs)
        XCTAssertEqual(batch.segments[0].map(\.count), [6, 2, 5, 3, 4])
        XCTAssertEqual(batch.positionIds.prefix(8), [0, 1, 2, 3, 4, 5, 0, 1])
        // Packs in padded rows keep their inner boundaries too.
        let padded = Batcher(padId: 0).batch(packs)
        XCTAssertEqual(padded.segments, [[0..<6, 6..<8], [0..<5, 5..<8], [0..<4]])
        XCTAssertEqual(padded.labels[6], -100)
    }
}
