import XCTest
@testable import Engine

/// `#N` sampling, `dataset_shuffle`, `streaming`, `split_dataset_ratio` and `val_dataset` as the
/// reference documents them, on a fixture of ten rows q0…q9.
final class DatasetSamplingTests: XCTestCase {
    typealias F = DatasetFixtures

    private func queries(_ d: Dataset) -> [String] { d.rows.map { $0.messages[0].content } }
    private func load(_ spec: String, _ configure: (inout DatasetOptions) -> Void = { _ in }) throws -> Dataset {
        var o = DatasetOptions()
        configure(&o)
        return try Dataset.load(F.path(spec), options: o)
    }

    func testBelowTheSizeSamplesWithoutRepetition() throws {
        let q = queries(try load("numbered.jsonl#4"))
        XCTAssertEqual(q.count, 4)
        XCTAssertEqual(Set(q).count, 4)
        XCTAssertTrue(Set(q).isSubset(of: (0..<10).map { "q\($0)" }))
    }

    func testAboveTheSizeRepeatsThenAddsRandomExtras() throws {
        let q = queries(try load("numbered.jsonl#25"))
        XCTAssertEqual(q.count, 25)
        let counts = Dictionary(q.map { ($0, 1) }, uniquingKeysWith: +)
        XCTAssertEqual(counts.count, 10)
        XCTAssertEqual(counts.values.filter { $0 == 3 }.count, 5)
        XCTAssertEqual(counts.values.filter { $0 == 2 }.count, 5)
    }

    func testSameSeedSameOrderOtherSeedOtherOrder() throws {
        let a = queries(try load("numbered.jsonl"))
        let b = queries(try load("numbered.jsonl"))
        let c = queries(try load("numbered.jsonl") { $0.seed = 7 })
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertEqual(a.sorted(), c.sorted())
        XCTAssertNotEqual(a, (0..<10).map { "q\($0)" }, "dataset_shuffle true reorders the rows")
    }

    func testWithoutShuffleSamplingIsSequential() throws {
        XCTAssertEqual(queries(try load("numbered.jsonl#4") { $0.shuffle = false }), ["q0", "q1", "q2", "q3"])
        XCTAssertEqual(queries(try load("numbered.jsonl#13") { $0.shuffle = false }),
                       (0..<10).map { "q\($0)" } + ["q0", "q1", "q2"])
    }

    func testStreamingTakesTheFirstRows() throws {
        let d = try load("numbered.jsonl#4") { $0.streaming = true; $0.shuffle = false }
        XCTAssertEqual(queries(d), ["q0", "q1", "q2", "q3"])
        XCTAssertTrue(d.isStreaming)
        // With dataset_shuffle the taken rows are only reordered (a buffered shuffle).
        let shuffled = try load("numbered.jsonl#4") { $0.streaming = true; $0.shuffleBufferSize = 2 }
        XCTAssertEqual(Set(queries(shuffled)), ["q0", "q1", "q2", "q3"])
        // Above the size a stream just ends: no repetition.
        XCTAssertEqual(try load("numbered.jsonl#25") { $0.streaming = true }.count, 10)
    }

    func testSplitRatioCarvesADisjointValidationSet() throws {
        var o = DatasetOptions()
        o.splitRatio = 0.2
        let (train, val) = try Dataset.load([F.path("numbered.jsonl")], options: o)
        let v = try XCTUnwrap(val)
        XCTAssertEqual(train.count, 8)
        XCTAssertEqual(v.count, 2)
        XCTAssertEqual(Set(queries(train) + queries(v)).count, 10)
        // With #N: val = max(Int(5 * 0.2), 1) = 1 and train = 5 - 1.
        let (t5, v5) = try Dataset.load([F.path("numbered.jsonl#5")], options: o)
        XCTAssertEqual(t5.count, 4)
        XCTAssertEqual(v5?.count, 1)
        XCTAssertTrue(Set(queries(t5)).isDisjoint(with: queries(v5!)))
    }

    func testStreamingSplitNeedsASampleCount() throws {
        var o = DatasetOptions()
        o.splitRatio = 0.5
        o.streaming = true
        XCTAssertThrowsError(try Dataset.load([F.path("numbered.jsonl")], options: o))
        let (t, v) = try Dataset.load([F.path("numbered.jsonl#6")], options: { var x = o; x.shuffle = false; return x }())
        XCTAssertEqual(queries(v!), ["q0", "q1", "q2"])
        XCTAssertEqual(queries(t), ["q3", "q4", "q5"])
    }

    func testValDatasetIsLoadedWholeInFileOrder() throws {
        var o = DatasetOptions()
        o.splitRatio = 0.5   // ignored: a val_dataset is given
        let (train, val) = try Dataset.load([F.path("numbered.jsonl")], validation: [F.path("query_response.jsonl")], options: o)
        XCTAssertEqual(train.count, 10)
        XCTAssertEqual(val.map(queries), ["Math tutor.", "Colour of the sky?", "first"])
    }

    func testSeveralDatasetsAreConcatenated() throws {
        var o = DatasetOptions()
        o.shuffle = false
        let (d, val) = try Dataset.load([F.path("numbered.jsonl#3"), F.path("alpaca.json")], options: o)
        XCTAssertNil(val)
        XCTAssertEqual(queries(d), ["q0", "q1", "q2", "Translate to French.\nGood morning", "Name a prime number.", "You count."])
    }

    func testPermutationIsUniformEnough() {
        // Each of the 6 orders of 3 items should come up about 1/6 of the time; 6000 draws give
        // a standard deviation of about 29, so ±150 (5 sigma) cannot fail by chance in practice.
        var s = DatasetSampler(seed: 1)
        var counts: [[Int]: Int] = [:]
        for _ in 0..<6000 { counts[s.permutation(3), default: 0] += 1 }
        XCTAssertEqual(counts.count, 6)
        XCTAssertTrue(counts.values.allSatisfy { abs($0 - 1000) < 150 }, "\(counts)")
    }
}
