import XCTest

final class VersionTests: XCTestCase {
    /// The BLAS core depends on the machine, so only the shape of that line is fixed here.
    func testVersionNamesTheEngineAndTheBLASCore() throws {
        let r = try TuneBinary.run(try TuneBinary.url, ["--version"], in: TuneBinary.fixtures)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.stderr, "")
        XCTAssertEqual(lines.first, "tune 0.1.0")
        XCTAssertTrue(lines.contains { $0.hasPrefix("engine: ") }, r.stdout)
        let blas = lines.first { $0.hasPrefix("BLAS core: OpenBLAS ") }
        XCTAssertNotNil(blas, r.stdout)
        XCTAssertGreaterThan(blas?.count ?? 0, "BLAS core: OpenBLAS ".count)
    }
}
