//! payswitch-stripe (work in progress).
