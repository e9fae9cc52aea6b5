import Foundation
import XCTest

/// Runs the real binary on the cases in Tests/Fixtures/scripts/*.transcript and compares
/// stdout, stderr and the exit status with what is written there. Each case is:
///
///     $ tune ARGS... [< STDIN_FILE]      (or $ ./SCRIPT for a #! script)
///     --- stdout
///     ...
///     --- stderr
///     ...
///     --- exit N
///
/// With TUNE_UPDATE_TRANSCRIPTS=1 the files are rewritten from what the binary printed
/// (then read the diff before committing it).
final class TranscriptTests: XCTestCase {
    struct Case {
        var command: String
        var expected: TuneBinary.Result
    }

    static func parse(_ text: String) -> [Case] {
        var cases: [Case] = []
        var section: String?
        var buffers: [String: [String]] = [:]
        func finish(status: Int32) {
            cases[cases.count - 1].expected = TuneBinary.Result(
                stdout: joined(buffers["stdout"]), stderr: joined(buffers["stderr"]), status: status)
            buffers = [:]
            section = nil
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("$ ") && section == nil {
                cases.append(Case(command: String(line.dropFirst(2)), expected: TuneBinary.Result(stdout: "", stderr: "", status: -1)))
            } else if line == "--- stdout" || line == "--- stderr" {
                section = String(line.dropFirst(4))
                buffers[section!] = buffers[section!] ?? []
            } else if line.hasPrefix("--- exit "), let code = Int32(line.dropFirst(9)) {
                finish(status: code)
            } else if let s = section {
                buffers[s, default: []].append(line)
            }
        }
        return cases
    }

    static func joined(_ lines: [String]?) -> String {
        guard let lines, !lines.isEmpty else { return "" }
        return lines.joined(separator: "\n") + "\n"
    }

    static func render(_ cases: [Case]) -> String {
        var out = ""
        for c in cases {
            out += "$ \(c.command)\n--- stdout\n\(c.expected.stdout)--- stderr\n\(c.expected.stderr)--- exit \(c.expected.status)\n\n"
        }
        return out
    }

    /// `tune ARGS < FILE` split like a shell would (single quotes only).
    static func words(_ command: String) -> (words: [String], input: String?) {
        var words: [String] = []
        var current = ""
        var quoted = false
        var inWord = false
        for c in command {
            if c == "'" { quoted.toggle(); inWord = true; continue }
            if c == " " && !quoted {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(c)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        var input: String?
        if words.count >= 2, words[words.count - 2] == "<" {
            input = words.last
            words.removeLast(2)
        }
        return (words, input)
    }

    func testTranscripts() throws {
        let binary = try TuneBinary.url
        let dir = TuneBinary.fixtures
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".transcript") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 4, "transcript fixtures are missing")
        let update = ProcessInfo.processInfo.environment["TUNE_UPDATE_TRANSCRIPTS"] == "1"
        var total = 0
        for file in files {
            let url = dir.appendingPathComponent(file)
            var cases = Self.parse(try String(contentsOf: url, encoding: .utf8))
            XCTAssertFalse(cases.isEmpty, "\(file) has no cases")
            for (i, c) in cases.enumerated() {
                let (words, input) = Self.words(c.command)
                let executable: URL
                var args = Array(words.dropFirst())
                if words.first == "tune" {
                    executable = binary
                } else {
                    // A #! script: the shell runs it so the kernel finds tune on PATH.
                    executable = URL(fileURLWithPath: "/bin/sh")
                    args = ["-c", words.joined(separator: " ")]
                }
                let actual = try TuneBinary.run(executable, args, in: dir, input: input.map { dir.appendingPathComponent($0) },
                                                environment: ["TUNE_DATA": "/data/sets"])
                total += 1
                if update {
                    cases[i].expected = actual
                } else {
                    XCTAssertEqual(actual.stdout, c.expected.stdout, "\(file): stdout of $ \(c.command)")
                    XCTAssertEqual(actual.stderr, c.expected.stderr, "\(file): stderr of $ \(c.command)")
                    XCTAssertEqual(actual.status, c.expected.status, "\(file): exit status of $ \(c.command)")
                }
            }
            if update { try Self.render(cases).write(to: url, atomically: true, encoding: .utf8) }
        }
        XCTAssertGreaterThanOrEqual(total, 15)
    }
}
