import Foundation
import XCTest

/// The names extracted from the ms-swift reference by Scripts/gen-registry.py
/// (see Tests/Fixtures/registry/README.md).
enum RegistryFixture {
    static func documentedNames(file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let here = URL(fileURLWithPath: "\(#filePath)")
        let url = here.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/registry/names.txt")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            XCTFail("missing fixture \(url.path)", file: file, line: line)
            return []
        }
        return text.split(separator: "\n").map { String($0).trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }
}
