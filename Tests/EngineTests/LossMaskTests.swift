import XCTest
@testable import Engine

/// Loss masks on the real SmolLM2 template: the loss-carrying tokens decode to exactly the
/// replies and their end-of-turn text.
final class LossMaskTests: XCTestCase {
    func testMasksFollowLossScale() throws {
        let m = try SharedModels.smolLM2()
        let conversation = [
            ChatMessage(role: "user", content: "Hi!"),
            ChatMessage(role: "assistant", content: "Hello, how can I help?"),
            ChatMessage(role: "user", content: "Name a colour."),
            ChatMessage(role: "assistant", content: "<think>\n\n</think>\n\nBlue."),
        ]
        func lossText(_ scale: LossScale) throws -> String {
            let t = try m.trainingTokens(conversation, lossScale: scale)
            XCTAssertEqual(m.tokenizer.decode(t.ids), t.text)
            return m.tokenizer.decode(t.ids.indices.filter { t.carriesLoss[$0] }.map { t.ids[$0] })
        }
        XCTAssertEqual(try lossText(.default), "Hello, how can I help?<|im_end|>\n<think>\n\n</think>\n\nBlue.<|im_end|>\n")
        XCTAssertEqual(try lossText(.lastRound), "<think>\n\n</think>\n\nBlue.<|im_end|>\n")
        XCTAssertEqual(try lossText(.ignoreEmptyThink), "Hello, how can I help?<|im_end|>\nBlue.<|im_end|>\n")
        let all = try m.trainingTokens(conversation, lossScale: LossScale.all)
        XCTAssertTrue(all.carriesLoss.allSatisfy { $0 })
        XCTAssertTrue(all.text.hasPrefix("<|im_start|>system\nYou are a helpful AI assistant named SmolLM"))
    }
}
