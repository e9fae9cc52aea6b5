import Glibc
import Script

/// The one flag Ctrl-C touches. Created before the handler is installed, so the handler
/// only loads an initialised global and does one atomic store.
let interruptFlag = CancellationFlag()

enum Signals {
    /// SIGINT raises `interruptFlag` instead of ending the process. No SA_RESTART: a read
    /// waiting at the prompt returns EINTR so the line editor can drop the line.
    static func catchInterrupts() {
        _ = interruptFlag.isRaised
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in interruptFlag.raise() }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
    }
}
