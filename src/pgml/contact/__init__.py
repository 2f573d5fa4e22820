"""The contact chain: alignment -> PSSM + pseudo-likelihood couplings -> ATTContact contact maps [attcontact]."""
