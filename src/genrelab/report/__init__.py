"""The book's views: the comparison, figures, exploratory plots, and building the book."""
