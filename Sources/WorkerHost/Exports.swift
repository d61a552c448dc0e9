// The worker host runs the domain's workers (`WorkerOptions.run(_ kind: WorkerKind)`):
// every file here, and every executable that imports WorkerHost, sees TimebankWorkers.
@_exported import TimebankWorkers
