import Glibc
import Synchronization
import Script

/// The one flag Ctrl-C touches. Created before the handler is installed, so the handler
/// only loads an initialised global and does one atomic store.
let interruptFlag = CancellationFlag()

/// Ctrl-C presses since the last prompt; the third in a row leaves at once (exit 130), for a
/// verb that does not reach a safe point.
let interruptCount = Atomic<Int>(0)

enum Signals {
    /// SIGINT raises `interruptFlag` instead of ending the process. No SA_RESTART: a read
    /// waiting at the prompt returns EINTR so the line editor can drop the line.
    static func catchInterrupts() {
        _ = interruptFlag.isRaised
        _ = interruptCount.load(ordering: .relaxed)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            interruptFlag.raise()
            if interruptCount.add(1, ordering: .relaxed).newValue >= 3 { _exit(130) }
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
    }
}
