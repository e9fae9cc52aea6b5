import Foundation
import XCTest
@testable import Repl

final class HistoryFileTests: XCTestCase {
    private func tempPath() throws -> String {
        let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("tune-history-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir + "/.tune_history"
    }

    func testEntriesRoundTripIncludingNewlinesAndBackslashes() throws {
        let file = HistoryFile(path: try tempPath(), limit: 1000)
        let entries = ["set lora_rank 8", "ask 'two\nlines'", #"set system "a\\b""#, "set --x 1 \\\n  --y 2", "小黄"]
        try file.save(entries)
        XCTAssertEqual(file.load(), .loaded(entries))
        let text = try String(contentsOfFile: file.path, encoding: .utf8)
        XCTAssertEqual(text.split(separator: "\n").count, entries.count + 1, "one line per entry plus the header")
    }

    func testOnlyTheLastEntriesAreKept() throws {
        let file = HistoryFile(path: try tempPath(), limit: 3)
        try file.save((1...10).map { "set lora_rank \($0)" })
        XCTAssertEqual(file.load(), .loaded(["set lora_rank 8", "set lora_rank 9", "set lora_rank 10"]))
    }

    func testAMissingFileIsAnEmptyHistory() throws {
        XCTAssertEqual(HistoryFile(path: try tempPath(), limit: 10).load(), .loaded([]))
    }

    func testACorruptFileIsMovedAside() throws {
        for (bytes, reason) in [
            (Data([0x23, 0xFF, 0xFE, 0x0A]), "it is not UTF-8 text"),
            (Data("_HiStOrY_V2_\nset\\040x\n".utf8), "its first line is not '# tune history v1'"),
            (Data("# tune history v1\nbad \\q escape\n".utf8), "it has a malformed line"),
        ] {
            let path = try tempPath()
            try bytes.write(to: URL(fileURLWithPath: path))
            XCTAssertEqual(HistoryFile(path: path, limit: 10).load(), .setAside(movedTo: path + ".corrupt", reason: reason))
            XCTAssertFalse(FileManager.default.fileExists(atPath: path))
            XCTAssertEqual(FileManager.default.contents(atPath: path + ".corrupt"), bytes)
        }
    }
}
