import XCTest
@testable import Engine

/// One small template per language feature, each compared with jinja2's output
/// (Tests/Fixtures/templates/features.json, made by Scripts/goldens/templates.py).
final class TemplateFeatureTests: XCTestCase {
    func testFeaturesMatchJinja2() throws {
        let fixture = try TemplateGoldenTests.load("features.json")
        guard case .dict(let context)? = fixture["context"], case .array(let cases)? = fixture["cases"] else {
            return XCTFail("features.json: missing context or cases")
        }
        XCTAssertGreaterThan(cases.count, 50)
        for c in cases {
            guard case .dict(let d) = c, case .string(let name)? = d["name"], case .string(let source)? = d["source"] else {
                XCTFail("malformed case"); continue
            }
            do {
                let template = try ChatTemplate(source: source)
                if case .string(let expected)? = d["expected"] {
                    XCTAssertEqual(try template.render(context: context), expected, "feature \(name)")
                } else if case .dict(let err)? = d["error"] {
                    XCTAssertThrowsError(try template.render(context: context), "feature \(name)") { e in
                        guard let te = e as? TemplateError else { return XCTFail("feature \(name): \(e)") }
                        if err["raised"] == .bool(true), case .string(let message)? = err["message"] {
                            XCTAssertEqual(te.kind, .raised, "feature \(name)")
                            XCTAssertEqual(te.message, message, "feature \(name)")
                        }
                    }
                }
            } catch {
                XCTFail("feature \(name): \(error)")
            }
        }
    }
}
