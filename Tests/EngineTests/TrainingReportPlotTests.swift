import Foundation
import XCTest
@testable import Engine

/// The PNG encoder and the training plots against Python's zlib and Pillow decoding the files
/// this encoder wrote, and ms-swift's smoothing (Scripts/goldens/training_plots.py).
final class TrainingReportPlotTests: XCTestCase {
    /// What the tests drew, kept for remaking the fixtures (see the script).
    private let keep = NSTemporaryDirectory() + "tune-report-fixtures"

    private func keepCopy(_ bytes: [UInt8], _ name: String) {
        try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: keep + "/" + name, contents: Data(bytes))
    }

    private func fixtureBytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("reports/" + name))))
    }

    private func series() throws -> (tag: String, points: [ScalarPoint], json: [String: Any]) {
        let json = try TestPaths.json("reports/plots.json")
        let s = json["series"] as! [String: Any]
        let steps = s["steps"] as! [Int], values = (s["values"] as! [NSNumber]).map { $0.floatValue }
        return (s["tag"] as! String, zip(steps, values).map { ScalarPoint(step: $0, value: $1) }, json)
    }

    static func pattern(width: Int, height: Int) -> RGBImage {
        var image = RGBImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                var c = [UInt8](repeating: 255, count: 3)
                if y % 5 != 0 {
                    for k in 0..<3 { c[k] = UInt8((x * 31 + y * 17 + k * 101 + (x * y) % 7 + (10..<30 ~= x ? 200 : 0)) & 0xFF) }
                }
                image[x, y] = RGBImage.Color(c[0], c[1], c[2])
            }
        }
        return image
    }

    func testPatternPNGIsWhatZlibAndPillowDecoded() throws {
        let image = Self.pattern(width: 37, height: 23)
        let png = PNGEncoder.encode(image)
        keepCopy(png, "pattern.png")
        let golden = try XCTUnwrap(TestPaths.json("reports/plots.json")["pattern"] as? [String: Any])
        XCTAssertEqual(image.width, golden["width"] as? Int)
        XCTAssertEqual(image.height, golden["height"] as? Int)
        XCTAssertEqual(Int(Checksums.crc32(image.pixels)), golden["pixel_crc32"] as? Int)
        XCTAssertEqual(png, try fixtureBytes("pattern.png"))
    }

    func testSmoothingEqualsMsSwiftTensorboardSmoothing() throws {
        let (_, points, json) = try series()
        let ours = TrainingPlots.smooth(points.map { Double($0.value) })
        let golden = (json["smoothed"] as! [NSNumber]).map(\.doubleValue)
        XCTAssertEqual(ours.count, golden.count)
        for (a, b) in zip(ours, golden) { XCTAssertEqual(a, b, accuracy: 1e-12) }
    }

    func testLossChartIsTheDecodedGoldenAndItsCurveFalls() throws {
        let (tag, points, json) = try series()
        let image = TrainingPlots.chart(tag: tag, points: points)
        let png = PNGEncoder.encode(image)
        keepCopy(png, "plot_train_loss.png")
        let golden = try XCTUnwrap(json["plot_train_loss"] as? [String: Any])
        XCTAssertEqual(image.width, 800)
        XCTAssertEqual(image.height, 500)
        XCTAssertEqual(Int(Checksums.crc32(image.pixels)), golden["pixel_crc32"] as? Int)
        XCTAssertEqual(png, try fixtureBytes("plot_train_loss.png"))
        XCTAssertLessThan(png.count, 40_000, "an 800×500 chart should compress well")

        // Where the smoothed curve is, read from this image: it starts high and ends low.
        let curve = LineChart.curveColor
        let columns = (0..<image.width).filter { x in (0..<image.height).contains { image[x, $0] == curve } }
        let top = { (x: Int) in (0..<image.height).first { image[x, $0] == curve }! }
        let first = try XCTUnwrap(golden["curve_first_column"] as? [String: Int])
        let last = try XCTUnwrap(golden["curve_last_column"] as? [String: Int])
        XCTAssertEqual(columns.first, first["x"])
        XCTAssertEqual(columns.last, last["x"])
        let firstColumn = try XCTUnwrap(columns.first), lastColumn = try XCTUnwrap(columns.last)
        XCTAssertEqual(top(firstColumn), first["top_row"])
        XCTAssertEqual(top(lastColumn), last["top_row"])
        XCTAssertLessThan(top(firstColumn), top(lastColumn) - 200)
        // The raw curve is drawn in ms-swift's light colour under the smoothed one.
        XCTAssertTrue(image.pixels.withUnsafeBufferPointer { p in
            stride(from: 0, to: p.count, by: 3).contains { p[$0] == 0xFF && p[$0 + 1] == 0xE2 && p[$0 + 2] == 0xD9 }
        })
    }

    func testWriteNamesFilesAsMsSwiftAndDrawsASingleValueAsADot() throws {
        let dir = NSTemporaryDirectory() + "tune-plots-\(UUID().uuidString)/images"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
        let rising = (1...5).map { ScalarPoint(step: $0 * 10, value: Float($0)) }
        let paths = try TrainingPlots.write([("train/learning_rate", rising), ("eval/loss", [ScalarPoint(step: 50, value: 1.25)]),
                                             ("train/empty", []), ("train/v1.5", rising)], to: dir)
        XCTAssertEqual(paths.map { ($0 as NSString).lastPathComponent },
                       ["train_learning_rate.png", "eval_loss.png", "train_v1_5.png"])
        let header = [UInt8](try Data(contentsOf: URL(fileURLWithPath: paths[0])).prefix(8))
        XCTAssertEqual(header, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])

        let dot = TrainingPlots.chart(tag: "eval/loss", points: [ScalarPoint(step: 50, value: 1.25)])
        let chart = LineChart(title: "", points: [(50, 1.25)], smoothed: nil)
        let centre = ((chart.plotLeft + chart.plotRight) / 2, (chart.plotTop + chart.plotBottom) / 2)
        XCTAssertEqual(dot[centre.0, centre.1], LineChart.curveColor)
        // Only the dot (radius 4: 49 pixels) is in the curve colour.
        let dotPixels = (0..<dot.height).reduce(0) { n, y in n + (0..<dot.width).filter { dot[$0, y] == LineChart.curveColor }.count }
        XCTAssertEqual(dotPixels, 49)

        // A rising series without smoothing: one curve in the strong colour, low on the left.
        let up = TrainingPlots.chart(tag: "train/learning_rate", points: rising)
        let cols = (0..<up.width).filter { x in (0..<up.height).contains { up[x, $0] == LineChart.curveColor } }
        let top = { (x: Int) in (0..<up.height).first { up[x, $0] == LineChart.curveColor }! }
        XCTAssertGreaterThan(top(cols.first!), top(cols.last!) + 200)
    }

    func testOddSeriesStillDraw() {
        let flat = TrainingPlots.chart(tag: "train/learning_rate", points: (1...6).map { ScalarPoint(step: $0, value: 1e-4) })
        let flatRows = Set((0..<flat.height).filter { y in (0..<flat.width).contains { flat[$0, y] == LineChart.curveColor } })
        XCTAssertEqual(flatRows.count, 2)   // one level line, two pixels thick
        let wild: [Float] = [.greatestFiniteMagnitude, -.greatestFiniteMagnitude, .nan, .infinity, 0]
        let image = TrainingPlots.chart(tag: "train/grad_norm", points: wild.enumerated().map { ScalarPoint(step: $0.offset, value: $0.element) })
        XCTAssertEqual(image.width, 800)
        XCTAssertEqual(TrainingPlots.chart(tag: "x", points: [ScalarPoint(step: 0, value: .nan)]).pixels.count, 800 * 500 * 3)
    }

    func testTicksFallOnRoundNumbers() {
        XCTAssertEqual(LineChart.ticks(0.13, 2.87), [0.5, 1.0, 1.5, 2.0, 2.5])
        XCTAssertEqual(LineChart.ticks(-1, 41, integer: true), [0, 10, 20, 30, 40])
        XCTAssertEqual(TrainingPlots.fileName(forTag: "eval/samples_per_second"), "eval_samples_per_second.png")
    }
}
