import XCTest
@testable import Engine

final class GGMLTypeTests: XCTestCase {
    func testBlockSizesMatchGGUFLayouts() {
        XCTAssertEqual(GGMLType.q4_1.bytesPerBlock, 20)
        XCTAssertEqual(GGMLType.q8_0.bytesPerBlock, 34)
        XCTAssertEqual(GGMLType.q4_K.bytesPerBlock, 144)
        XCTAssertEqual(GGMLType.q6_K.bytesPerBlock, 210)
        XCTAssertEqual(GGMLType.q2_K.bytesPerBlock, 84)
        XCTAssertEqual(GGMLType.q3_K.bytesPerBlock, 110)
        XCTAssertEqual(GGMLType.q5_K.bytesPerBlock, 176)
        XCTAssertEqual(GGMLType.q8_K.bytesPerBlock, 292)
        XCTAssertNil(GGMLType.q4_0.byteCount(elements: 33))
        XCTAssertEqual(GGMLType.q4_0.byteCount(elements: 64), 36)
    }
}
