"""Adoption: specs read from the tables hand-written migrations created, and the project file
read from their membership tables."""
