public import TillStore
public import TillUI

// The till's parts meet here, in the composition module: TillUI declares what it needs (its
// ports), TillStore knows nothing of the screen, and this is where one is said to serve the other.

/// The till database keeps head office's publications and applies them between sales.
extension TillDatabase: PublicationApplier {}
