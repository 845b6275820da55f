"""Recover tables and text from images: embedded table pictures, scanned pages, page images."""
