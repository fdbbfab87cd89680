# llama-cpp-python builds llama.cpp with its "common" helper library (and cpp-httplib) forced on, though Python
# loads only libllama and ggml. Included into llama.cpp's own project() scope by CMAKE_PROJECT_llama.cpp_INCLUDE (see
# the Makefile), this plain variable overrides that forced setting: the compile takes about half the CPU time
# (367 against 781 CPU-seconds, measured 2026-11-28) and the libraries the kit loads are the same code.
set(LLAMA_BUILD_COMMON OFF)
