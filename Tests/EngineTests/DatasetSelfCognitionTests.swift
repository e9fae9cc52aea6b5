import XCTest
@testable import Engine

/// The built-in `swift/self-cognition`: names filled per row language, subsets, sampling.
final class DatasetSelfCognitionTests: XCTestCase {
    private func load(_ spec: String, name: [String] = ["小黄", "Xiao Huang"], author: [String] = ["魔搭", "ModelScope"]) throws -> Dataset {
        var o = DatasetOptions()
        o.shuffle = false
        o.modelName = name
        o.modelAuthor = author
        return try Dataset.load(spec, options: o)
    }

    func testRowsAreHalfEnglishHalfChineseWithPlaceholders() {
        XCTAssertEqual(SelfCognitionRows.english.count, SelfCognitionRows.chinese.count)
        XCTAssertGreaterThanOrEqual(SelfCognitionRows.english.count + SelfCognitionRows.chinese.count, 100)
        let all = SelfCognitionRows.english + SelfCognitionRows.chinese
        XCTAssertTrue(all.allSatisfy { ($0.query + $0.response).contains("{{NAME}}") || ($0.query + $0.response).contains("{{AUTHOR}}") })
        XCTAssertEqual(Set(all.map(\.query)).count, all.count, "no question is asked twice")
    }

    func testNamesAreFilledByLanguage() throws {
        let d = try load("swift/self-cognition")
        XCTAssertEqual(d.count, SelfCognitionRows.english.count * 2)
        let en = d.rows.prefix(SelfCognitionRows.english.count), zh = d.rows.suffix(SelfCognitionRows.chinese.count)
        let enText = en.map { $0.messages.map(\.content).joined() }.joined()
        let zhText = zh.map { $0.messages.map(\.content).joined() }.joined()
        XCTAssertFalse((enText + zhText).contains("{{"))
        XCTAssertTrue(enText.contains("Xiao Huang") && enText.contains("ModelScope"))
        XCTAssertFalse(enText.contains("小黄") || enText.contains("魔搭"))
        XCTAssertTrue(zhText.contains("小黄") && zhText.contains("魔搭"))
        XCTAssertFalse(zhText.contains("Xiao Huang") || zhText.contains("ModelScope"))
        XCTAssertEqual(d.rows[0].messages.map(\.role), ["user", "assistant"])
        XCTAssertEqual(d.rows[0].messages[1].content, "I am Xiao Huang, an AI assistant built by ModelScope. How can I help you today?")
    }

    func testOneNameServesBothAndNoNameLeavesPlaceholders() throws {
        let one = try load("modelscope/self-cognition", name: ["Tuna"], author: ["Lab"])
        let text = one.rows.map { $0.messages.map(\.content).joined() }.joined()
        XCTAssertFalse(text.contains("{{"))
        XCTAssertEqual(one.rows[0].messages[1].content, "I am Tuna, an AI assistant built by Lab. How can I help you today?")
        XCTAssertEqual(one.rows[SelfCognitionRows.english.count].messages[1].content, "我是Tuna，由Lab开发的人工智能助手。有什么可以帮你的吗？")
        let none = try load("swift/self-cognition", name: [], author: [])
        XCTAssertEqual(none.rows[0].messages[1].content, "I am {{NAME}}, an AI assistant built by {{AUTHOR}}. How can I help you today?")
    }

    func testSubsetsAndSampling() throws {
        let qwen3 = try load("swift/self-cognition:qwen3")
        XCTAssertTrue(qwen3.rows.allSatisfy { $0.messages[0].content.hasSuffix(" /no_think") })
        XCTAssertTrue(qwen3.rows.allSatisfy { $0.messages[1].content.hasPrefix("<think>\n\n</think>\n\n") })
        let empty = try load("swift/self-cognition:empty_think")
        XCTAssertFalse(empty.rows[0].messages[0].content.hasSuffix("/no_think"))
        XCTAssertTrue(empty.rows[0].messages[1].content.hasPrefix("<think>\n\n</think>\n\n"))
        XCTAssertEqual(try load("swift/self-cognition:all").count, 3 * qwen3.count)
        XCTAssertEqual(try load("swift/self-cognition#500").count, 500)
        XCTAssertEqual(try load("hf::modelscope/self-cognition#20").count, 20)
        XCTAssertThrowsError(try load("swift/self-cognition:nope")) { e in
            XCTAssertTrue("\(e)".contains("unknown subset 'nope'"), "\(e)")
        }
    }
}
