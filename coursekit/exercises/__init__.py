"""The assignments' own hand-written functions: the numerics of FIT3181 Part 1, RecVis' numpy two-layer
net and convolution blocks, the Technion initialisation study and initialisers, DS 5220's epoch functions."""
