//! payswitch facade (work in progress).
