import Foundation
import XCTest
@testable import Engine

/// The scanners' character classes (`\p{L}`, `\p{N}`, `\s`, other) agree with HF's regex engine on
/// every assigned code point (golden unicode_classes_hf.json, see README.md).
final class TokenizerUnicodeClassTests: XCTestCase {
    func testEveryAssignedCodePointIsClassedAsHFClassesIt() throws {
        let obj = try JSONSerialization.jsonObject(with: TokenizerFixtures.data("unicode_classes_hf.json")) as! [String: Any]
        let ranges = obj["ranges"] as! [[Any]]
        var checked = 0
        var mismatches: [String] = []
        for r in ranges {
            let first = r[0] as! Int, last = r[1] as! Int, want = r[2] as! String
            for cp in first...last {
                let c = ScalarClass.of(UInt32(cp))
                let got = c.contains(.letter) ? "L" : c.contains(.number) ? "N" : c.contains(.whitespace) ? "W" : "O"
                if got != want && mismatches.count < 20 { mismatches.append(String(format: "U+%04X: %@ vs HF %@", cp, got, want)) }
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 140_000)
        XCTAssertEqual(mismatches, [])
    }
}
