import Foundation
import Glibc
import Script

/// Session output on stdout/stderr: colour and a redrawn progress line only on a terminal
/// (and never with NO_COLOR set); plain lines otherwise.
final class ConsoleOutput: SessionOutput {
    let isTerminal: Bool
    private let colour: Bool
    private var progressShown = false

    init() {
        isTerminal = isatty(1) == 1
        let env = ProcessInfo.processInfo.environment
        colour = isTerminal && isatty(2) == 1 && env["NO_COLOR"] == nil && env["TERM"] != "dumb"
    }

    private func write(_ text: String, to stream: UnsafeMutablePointer<FILE>) {
        fputs(text, stream)
        fflush(stream)
    }

    private func endProgress() {
        if progressShown {
            write("\n", to: stdout)
            progressShown = false
        }
    }

    func line(_ text: String) {
        endProgress()
        write(text + "\n", to: stdout)
    }

    func stream(_ text: String) {
        endProgress()
        write(text, to: stdout)
    }

    func diagnostic(_ d: Diagnostic) {
        endProgress()
        fflush(stdout)
        var text = d.description
        if colour {
            let label = d.severity.rawValue + ":"
            let code = d.severity == .error ? "\u{1B}[1;31m" : "\u{1B}[1;33m"
            text = text.replacingOccurrences(of: label, with: code + label + "\u{1B}[0m")
        }
        write(text + "\n", to: stderr)
    }

    func progress(_ event: ProgressEvent) {
        let text = ProgressText.line(event, bar: isTerminal)
        if isTerminal {
            write("\r\u{1B}[K" + text, to: stdout)
            progressShown = true
            if let total = event.total, event.completed >= total { endProgress() }
        } else {
            write(text + "\n", to: stdout)
        }
    }
}
