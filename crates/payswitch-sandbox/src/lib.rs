//! payswitch-sandbox (work in progress).
