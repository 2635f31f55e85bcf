//! payswitch-core (work in progress).
