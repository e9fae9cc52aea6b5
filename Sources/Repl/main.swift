import Foundation
import Glibc
import Script

setvbuf(stdout, nil, _IOFBF, 1 << 16)
let backend: EngineBackend = EngineSessionBackend()
let launch = Launch.parse(Array(CommandLine.arguments.dropFirst()), stdinIsTerminal: isatty(0) == 1)
let status: Int32
switch launch {
case .help:
    print(Usage.text)
    status = 0
case .version:
    Usage.versionLines(backend).forEach { print($0) }
    status = 0
case .repl:
    status = Modes.repl(backend: backend)
case .script(let path, let presets, let check):
    status = Modes.script(path: path, presets: presets, check: check, backend: backend)
case .oneShot(let words, let check):
    status = Modes.oneShot(words: words, check: check, backend: backend)
case .usageError(let message):
    fputs("tune: \(message)\n", stderr)
    status = 2
}
fflush(stdout)
exit(status)
