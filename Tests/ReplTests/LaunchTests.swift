import XCTest
@testable import Repl

final class LaunchTests: XCTestCase {
    func testModes() {
        XCTAssertEqual(Launch.parse([], stdinIsTerminal: true), .repl)
        XCTAssertEqual(Launch.parse([], stdinIsTerminal: false), .script(path: nil, presets: [], check: false))
        XCTAssertEqual(Launch.parse(["-"], stdinIsTerminal: true), .script(path: nil, presets: [], check: false))
        XCTAssertEqual(Launch.parse(["train.tune", "--lora_rank", "8"], stdinIsTerminal: true),
                       .script(path: "train.tune", presets: ["--lora_rank", "8"], check: false))
        XCTAssertEqual(Launch.parse(["sft", "--model", "m"], stdinIsTerminal: true), .oneShot(words: ["sft", "--model", "m"], check: false))
        XCTAssertEqual(Launch.parse(["merge-lora"], stdinIsTerminal: true), .oneShot(words: ["merge-lora"], check: false))
        XCTAssertEqual(Launch.parse(["--check", "x.tune"], stdinIsTerminal: true), .script(path: "x.tune", presets: [], check: true))
        XCTAssertEqual(Launch.parse(["--check", "sft", "--x"], stdinIsTerminal: true), .oneShot(words: ["sft", "--x"], check: true))
        XCTAssertEqual(Launch.parse(["--version"], stdinIsTerminal: true), .version)
        XCTAssertEqual(Launch.parse(["-h"], stdinIsTerminal: true), .help)
    }

    func testUsageErrors() {
        XCTAssertEqual(Launch.parse(["--check"], stdinIsTerminal: true), .usageError("--check needs a script file, - or a command"))
        XCTAssertEqual(Launch.parse(["--frob"], stdinIsTerminal: true), .usageError("unknown option '--frob' (see tune --help)"))
        XCTAssertEqual(Launch.parse(["stf"], stdinIsTerminal: true),
                       .usageError("'stf' is neither a script file nor a command; did you mean 'sft'?"))
    }
}
