import Foundation
import Glibc
import XCTest

/// A pseudo-terminal driven through tmux (a private server, no user config).
final class TmuxTerminal {
    let socket = "tune-tests-\(UUID().uuidString.prefix(8))"
    let session = "t"

    /// Starts `command` in a 120x40 terminal; the shell prints `[exit N]` when it ends.
    init(command: String, environment: [String: String]) throws {
        let env = environment.map { "\($0.key)=\(shellQuote($0.value))" }.sorted().joined(separator: " ")
        // `env -i`: nothing from the test process's environment (NO_COLOR, TERM, ...) leaks in.
        let line = "env -i PATH=/usr/bin:/bin LANG=C.UTF-8 \(env) \(command); echo \"[exit $?]\"; sleep 120"
        try tmux(["-f", "/dev/null", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", line])
    }

    deinit { _ = try? tmux(["kill-server"]) }

    /// Runs a tmux client command through the shell (`system`/`popen` wait for exactly that
    /// child; the server `new-session` starts lives on by itself).
    @discardableResult
    func tmux(_ arguments: [String], capture: Bool = false) throws -> String {
        let command = (["tmux", "-L", socket] + arguments).map(shellQuote).joined(separator: " ")
        guard capture else {
            let status = system(command + " </dev/null >/dev/null 2>&1")
            if status != 0 { throw TmuxFailure(command: command, status: status) }
            return ""
        }
        guard let pipe = popen(command + " 2>/dev/null", "r") else { throw TmuxFailure(command: command, status: -1) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, pipe)
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        pclose(pipe)
        return String(decoding: data, as: UTF8.self)
    }

    /// Types text literally.
    func type(_ text: String) throws { try tmux(["send-keys", "-t", session, "-l", text]) }

    /// Presses keys by tmux name: Tab, Enter, Up, C-c, C-d, C-r.
    func press(_ keys: String...) throws { try tmux(["send-keys", "-t", session] + keys) }

    var screen: String { (try? tmux(["capture-pane", "-p", "-J", "-t", session], capture: true)) ?? "" }

    /// The screen's lines without trailing blanks and empty lines at the bottom.
    var lines: [String] {
        var l = screen.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            var s = String(line)
            while s.last == " " { s.removeLast() }
            return s
        }
        while l.last == "" { l.removeLast() }
        return l
    }

    /// Waits until `condition` holds for the screen (polling; at most `seconds`).
    func wait(_ what: String, seconds: Double = 10, _ condition: ([String]) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(lines) { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTFail("timed out waiting for \(what); screen:\n" + screen)
        return false
    }

    /// Waits until the last line is exactly `text`, then a moment more: libedit draws the
    /// prompt before it puts the terminal in raw mode, and a control key sent in between
    /// would go to the tty driver (Ctrl-R is its reprint key).
    @discardableResult
    func waitForLastLine(_ text: String) -> Bool {
        let ok = wait("last line '\(text)'") { $0.last == text }
        Thread.sleep(forTimeInterval: 0.2)
        return ok
    }

    func count(_ needle: String) -> Int { lines.filter { $0.contains(needle) }.count }
}

struct TmuxFailure: Error {
    let command: String
    let status: Int32
}

private func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
