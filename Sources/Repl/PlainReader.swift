import Script

/// Lines from standard input when it is not a terminal: no prompts, no escape codes.
final class PlainReader: LineReader {
    func read(prompt: String) -> LineInput {
        guard let line = readLine(strippingNewline: true) else { return .end }
        return .line(line)
    }
}
