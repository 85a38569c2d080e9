from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Avg, Count, Q
from django.urls import reverse
from django.utils.text import slugify


class BookQuerySet(models.QuerySet):
    def in_stock(self):
        return self.filter(stock__gt=0)

    def cheaper_than(self, price):
        return self.filter(price__lte=price)

    def of_genre(self, genre):
        return self.filter(genre=genre) if genre else self

    def matching(self, text):
        return self.filter(Q(title__icontains=text) | Q(author__name__icontains=text))

    def with_ratings(self):
        return self.annotate(rating=Avg("reviews__rating"), review_count=Count("reviews"))


class Author(models.Model):
    name = models.CharField(max_length=200, unique=True)
    born = models.PositiveIntegerField(null=True, blank=True)
    country = models.CharField(max_length=2, blank=True)

    def __str__(self):
        return self.name

    def initials(self):
        return "".join(part[0] for part in self.name.split() if part)


class Book(models.Model):
    class Genre(models.TextChoices):
        FICTION = "fiction", "Fiction"
        SCIENCE = "science", "Science"
        HISTORY = "history", "History"
        COMPUTING = "computing", "Computing"

    title = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    author = models.ForeignKey(Author, related_name="books", on_delete=models.CASCADE)
    genre = models.CharField(max_length=20, choices=Genre.choices, default=Genre.FICTION)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    stock = models.PositiveIntegerField(default=0)
    published = models.DateField()

    objects = BookQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return f"{self.title} ({self.author})"

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.title)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("catalog:book-detail", args=[self.slug])

    def average_rating(self):
        ratings = [review.rating for review in self.reviews.all()]
        if not ratings:
            return None
        return round(sum(ratings) / len(ratings), 1)

    def is_available(self, quantity=1):
        return self.stock >= quantity


class Review(models.Model):
    book = models.ForeignKey(Book, related_name="reviews", on_delete=models.CASCADE)
    reader = models.CharField(max_length=100)
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    text = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.reader} on {self.book.title}: {self.rating}/5"

    def excerpt(self, length=60):
        if len(self.text) <= length:
            return self.text
        return self.text[: length - 1].rsplit(" ", 1)[0] + "…"
