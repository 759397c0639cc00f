-- Static demo data: vendors, category tree, tags, attributes, word lists.
-- Included by demo_catalog.sql (psql \ir); creates TEMP tables only, except
-- for the catalog rows inserted here (vendors, categories, tags, attributes).

-- ---------------------------------------------------------------------------
-- Vendors (all price in USD). root_slugs: the category roots they sell in.
CREATE TEMP TABLE seed_vendor (id bigint, slug text, name text, sku_prefix text, country text,
                               description text, website text, commission_bps int, created text) ON COMMIT DROP;
INSERT INTO seed_vendor VALUES
 (1, 'northwind-apparel', 'Northwind Apparel', 'NWA', 'US',
  'Durable everyday clothing designed in Portland and made to be worn for years.',
  'https://northwind-apparel.example.com', 1000, '2023-01-15T09:00:00Z'),
 (2, 'summit-outfitters', 'Summit Outfitters', 'SMT', 'CA',
  'Outdoor clothing and gear tested on Canadian trails, from city commutes to alpine weekends.',
  'https://summit-outfitters.example.com', 1000, '2023-02-03T09:00:00Z'),
 (3, 'voltage-electronics', 'Voltage Electronics', 'VLT', 'US',
  'Headphones, laptops and accessories from brands we use ourselves, with fast shipping and honest advice.',
  'https://voltage.example.com', 800, '2023-02-20T09:00:00Z'),
 (4, 'pixel-and-co', 'Pixel & Co.', 'PXL', 'GB',
  'A London shop for well-made tech: phones, monitors, keyboards and the cables that hold it all together.',
  'https://pixelandco.example.com', 800, '2023-03-11T09:00:00Z'),
 (5, 'hearth-and-home', 'Hearth & Home', 'HRT', 'US',
  'Cookware, furniture and lighting for homes that are lived in.',
  'https://hearthandhome.example.com', 1200, '2023-04-02T09:00:00Z'),
 (6, 'casa-bella', 'Casa Bella', 'CSB', 'IT',
  'Italian-made decor, rugs and beauty essentials from small family workshops.',
  'https://casabella.example.com', 1200, '2023-05-18T09:00:00Z'),
 (7, 'peak-performance', 'Peak Performance Sports', 'PPS', 'DE',
  'Training equipment and outdoor gear engineered for people who move every day.',
  'https://peakperformance.example.com', 1000, '2023-06-07T09:00:00Z'),
 (8, 'glow-botanicals', 'Glow Botanicals', 'GLW', 'FR',
  'Plant-based skincare and hair care formulated in Provence. Cruelty-free, always.',
  'https://glowbotanicals.example.com', 1500, '2023-07-21T09:00:00Z');

INSERT INTO vendors (id, slug, name, description, logo_url, website, country, status, contact_email,
                     currency, commission_rate_bps, payout_method, approved_at, created_at, updated_at)
SELECT id, slug, name, description,
       'https://images.example.com/vendors/' || slug || '.png', website, country, 'active',
       'hello@' || slug || '.example.com', 'USD', commission_bps, 'bank_transfer',
       created::timestamptz, created::timestamptz, created::timestamptz
  FROM seed_vendor ORDER BY id;

-- ---------------------------------------------------------------------------
-- Category tree (3 levels).
INSERT INTO categories (id, parent_id, slug, name, description, position, created_at, updated_at)
SELECT id, parent_id, slug, name, description, position,
       '2023-01-01T00:00:00Z'::timestamptz, '2023-01-01T00:00:00Z'::timestamptz
  FROM (VALUES
 (1,  NULL::bigint, 'clothing',       'Clothing',          'Clothing, shoes and accessories for every day.', 0),
 (2,  1,  'men',              'Men',               'Menswear essentials.', 0),
 (3,  2,  'mens-shirts',      'Shirts',            'Oxford, linen, flannel and more.', 0),
 (4,  2,  'mens-pants',       'Pants',             'Chinos, jeans and joggers.', 1),
 (5,  2,  'mens-jackets',     'Jackets',           'Layers for every season.', 2),
 (6,  1,  'women',            'Women',             'Womenswear essentials.', 1),
 (7,  6,  'dresses',          'Dresses',           'Wrap, midi and maxi dresses.', 0),
 (8,  6,  'womens-tops',      'Tops',              'Blouses, tees and tanks.', 1),
 (9,  6,  'skirts',           'Skirts',            'Pleated, pencil and A-line skirts.', 2),
 (10, 1,  'shoes',            'Shoes',             'Sneakers and boots.', 2),
 (11, 10, 'sneakers',         'Sneakers',          'Everyday and running sneakers.', 0),
 (12, 10, 'boots',            'Boots',             'Chelsea, hiking and work boots.', 1),
 (13, NULL, 'electronics',    'Electronics',       'Audio, computers and phones.', 1),
 (14, 13, 'audio',            'Audio',             'Listen better.', 0),
 (15, 14, 'headphones',       'Headphones',        'Over-ear, on-ear and in-ear.', 0),
 (16, 14, 'speakers',         'Speakers',          'Bluetooth, smart and bookshelf speakers.', 1),
 (17, 13, 'computers',        'Computers',         'Laptops, monitors and keyboards.', 1),
 (18, 17, 'laptops',          'Laptops',           'Ultrabooks, gaming laptops and 2-in-1s.', 0),
 (19, 17, 'monitors',         'Monitors',          '4K, ultrawide and portable displays.', 1),
 (20, 17, 'keyboards',        'Keyboards',         'Mechanical, wireless and ergonomic.', 2),
 (21, 13, 'phones',           'Phones',            'Smartphones and accessories.', 2),
 (22, 21, 'smartphones',      'Smartphones',       'Unlocked smartphones.', 0),
 (23, 21, 'phone-cases',      'Cases & Covers',    'Protect your phone.', 1),
 (24, NULL, 'home',           'Home',              'Kitchen, furniture and decor.', 2),
 (25, 24, 'kitchen',          'Kitchen',           'Cook, slice and brew.', 0),
 (26, 25, 'cookware',         'Cookware',          'Pans, pots and Dutch ovens.', 0),
 (27, 25, 'cutlery',          'Cutlery',           'Knives and knife sets.', 1),
 (28, 25, 'coffee-tea',       'Coffee & Tea',      'Brewers, grinders and kettles.', 2),
 (29, 24, 'furniture',        'Furniture',         'Chairs and desks.', 1),
 (30, 29, 'chairs',           'Chairs',            'Office, dining and lounge chairs.', 0),
 (31, 29, 'desks',            'Desks',             'Standing and writing desks.', 1),
 (32, 24, 'decor',            'Decor',             'Lamps and rugs.', 2),
 (33, 32, 'lamps',            'Lamps',             'Desk, floor and pendant lights.', 0),
 (34, 32, 'rugs',             'Rugs',              'Area rugs and runners.', 1),
 (35, NULL, 'sports',         'Sports & Outdoors', 'Fitness, camping and cycling.', 3),
 (36, 35, 'fitness',          'Fitness',           'Train at home.', 0),
 (37, 36, 'yoga',             'Yoga',              'Mats, blocks and straps.', 0),
 (38, 36, 'weights',          'Weights',           'Dumbbells and kettlebells.', 1),
 (39, 35, 'outdoor',          'Outdoor',           'Camping and cycling gear.', 1),
 (40, 39, 'camping',          'Camping',           'Tents, sleeping bags and stoves.', 0),
 (41, 39, 'cycling',          'Cycling',           'Helmets, lights and locks.', 1),
 (42, NULL, 'beauty',         'Beauty',            'Skincare and hair care.', 4),
 (43, 42, 'skincare',         'Skincare',          'Moisturizers and cleansers.', 0),
 (44, 43, 'moisturizers',     'Moisturizers',      'Creams, lotions and serums.', 0),
 (45, 43, 'cleansers',        'Cleansers',         'Gentle daily cleansers.', 1),
 (46, 42, 'hair-care',        'Hair Care',         'Shampoo and styling.', 1),
 (47, 46, 'shampoo',          'Shampoo',           'Shampoo, conditioner and masks.', 0),
 (48, 46, 'hair-styling',     'Styling',           'Wax, cream and spray.', 1),
 (49, NULL, 'gifts',          'Gift Ideas',        'Hand-picked gifts.', 5),
 (50, 49, 'gifts-for-him',    'For Him',           'Gifts for him.', 0),
 (51, 49, 'gifts-for-her',    'For Her',           'Gifts for her.', 1),
 (52, 49, 'gifts-for-home',   'For the Home',      'Gifts for the home.', 2)
  ) AS c(id, parent_id, slug, name, description, position)
 ORDER BY id;

-- Leaf categories products are generated in. kind selects the variant axes:
--   apparel (size XS..XXL x color), shoe (EU size x color), color, storage
--   (storage x color), rug (dimensions), volume (ml), weight (kg), none.
-- gift: the 'Gift Ideas' child that gift-idea products are cross-listed in.
CREATE TEMP TABLE seed_leaf (idx int, category_id bigint, root text, kind text, pmin int, pmax int,
                             nouns text[], materials text[], gift bigint) ON COMMIT DROP;
INSERT INTO seed_leaf VALUES
 (0,  3,  'clothing', 'apparel', 2499, 8999,  '{Oxford Shirt,Linen Shirt,Flannel Shirt,Denim Shirt,Polo Shirt,Chambray Shirt,Henley}', '{cotton,linen,organic cotton}', 50),
 (1,  4,  'clothing', 'apparel', 2999, 11999, '{Chinos,Jeans,Cargo Pants,Joggers,Trousers,Shorts}', '{cotton,denim,twill}', 50),
 (2,  5,  'clothing', 'apparel', 5999, 24999, '{Bomber Jacket,Rain Jacket,Puffer Jacket,Denim Jacket,Field Jacket,Fleece}', '{nylon,wool,denim,polyester}', 50),
 (3,  7,  'clothing', 'apparel', 3999, 15999, '{Wrap Dress,Midi Dress,Maxi Dress,Shirt Dress,Slip Dress,Sundress}', '{silk,cotton,viscose,linen}', 51),
 (4,  8,  'clothing', 'apparel', 1499, 6999,  '{Blouse,Tank Top,Tee,Camisole,Tunic,Crop Top}', '{cotton,silk,modal}', 51),
 (5,  9,  'clothing', 'apparel', 2999, 8999,  '{Pleated Skirt,Pencil Skirt,A-Line Skirt,Denim Skirt,Midi Skirt}', '{wool,cotton,denim}', 51),
 (6,  11, 'clothing', 'shoe',    4999, 17999, '{Sneakers,Runners,High-Tops,Trainers,Slip-Ons}', '{canvas,leather,mesh,suede}', 50),
 (7,  12, 'clothing', 'shoe',    7999, 24999, '{Chelsea Boots,Hiking Boots,Ankle Boots,Work Boots,Rain Boots}', '{leather,suede,rubber}', 51),
 (8,  15, 'electronics', 'color', 2999, 39999, '{Wireless Headphones,Noise-Cancelling Headphones,Earbuds,Studio Headphones,Sport Earphones}', '{plastic,aluminium}', 50),
 (9,  16, 'electronics', 'color', 3999, 59999, '{Bluetooth Speaker,Soundbar,Smart Speaker,Bookshelf Speakers,Party Speaker}', '{plastic,fabric,wood}', 52),
 (10, 18, 'electronics', 'storage', 49999, 249999, '{Laptop,Ultrabook,Gaming Laptop,2-in-1 Laptop,Chromebook}', '{aluminium,magnesium}', 50),
 (11, 19, 'electronics', 'none',  14999, 89999, '{4K Monitor,Ultrawide Monitor,Gaming Monitor,Portable Monitor,QHD Monitor}', '{plastic,aluminium}', 50),
 (12, 20, 'electronics', 'color', 3999, 19999, '{Mechanical Keyboard,Wireless Keyboard,Compact Keyboard,Ergonomic Keyboard}', '{plastic,aluminium}', 50),
 (13, 22, 'electronics', 'storage', 29999, 149999, '{Smartphone,Phone Pro,Phone Mini,Phone Max}', '{glass,aluminium}', 51),
 (14, 23, 'electronics', 'color', 999, 4999,   '{Phone Case,Leather Folio,Clear Case,Rugged Case,Wallet Case}', '{silicone,leather,polycarbonate}', 51),
 (15, 26, 'home', 'none',  2499, 29999, '{Frying Pan,Saucepan,Dutch Oven,Wok,Stockpot,Skillet}', '{cast iron,stainless steel,copper,ceramic}', 52),
 (16, 27, 'home', 'none',  1999, 34999, '{Chef Knife,Knife Block Set,Paring Knife,Bread Knife,Steak Knives,Santoku Knife}', '{stainless steel,damascus steel,carbon steel}', 52),
 (17, 28, 'home', 'color', 1999, 79999, '{Pour-Over Kettle,French Press,Espresso Machine,Coffee Grinder,Tea Infuser,Moka Pot}', '{stainless steel,glass,ceramic}', 52),
 (18, 30, 'home', 'color', 7999, 69999, '{Office Chair,Dining Chair,Lounge Chair,Bar Stool,Rocking Chair}', '{oak,walnut,steel,velvet}', 52),
 (19, 31, 'home', 'none',  9999, 99999, '{Standing Desk,Writing Desk,Corner Desk,Desk Organizer}', '{oak,walnut,steel,bamboo}', 52),
 (20, 33, 'home', 'color', 2999, 24999, '{Desk Lamp,Floor Lamp,Pendant Light,Table Lamp,Reading Lamp}', '{brass,glass,linen,steel}', 52),
 (21, 34, 'home', 'rug',   4999, 59999, '{Area Rug,Runner Rug,Wool Rug,Outdoor Rug,Kilim Rug}', '{wool,jute,cotton,polypropylene}', 52),
 (22, 37, 'sports', 'color', 999, 12999, '{Yoga Mat,Yoga Block,Yoga Strap,Meditation Cushion}', '{natural rubber,cork,cotton}', 51),
 (23, 38, 'sports', 'weight', 1999, 39999, '{Dumbbell,Kettlebell,Weight Plate,Adjustable Dumbbells}', '{cast iron,steel,neoprene}', 50),
 (24, 40, 'sports', 'color', 1999, 49999, '{Tent,Sleeping Bag,Camping Stove,Headlamp,Backpack,Camp Chair}', '{ripstop nylon,polyester,aluminium}', 50),
 (25, 41, 'sports', 'color', 999, 14999,  '{Bike Helmet,Bike Light,Cycling Gloves,Water Bottle,Bike Lock}', '{polycarbonate,aluminium,steel}', 50),
 (26, 44, 'beauty', 'volume', 1499, 8999, '{Face Cream,Night Cream,Hydrating Serum,Day Lotion,Eye Cream}', '{shea butter,aloe vera,hyaluronic acid}', 51),
 (27, 45, 'beauty', 'volume', 999, 4999,  '{Foaming Cleanser,Cleansing Oil,Micellar Water,Gel Cleanser,Exfoliating Scrub}', '{green tea,charcoal,rose water}', 51),
 (28, 47, 'beauty', 'volume', 899, 3999,  '{Shampoo,Conditioner,Hair Mask,Dry Shampoo}', '{argan oil,coconut oil,keratin}', 51),
 (29, 48, 'beauty', 'volume', 999, 3999,  '{Hair Wax,Styling Cream,Texturizing Spray,Hair Oil,Pomade}', '{beeswax,argan oil,sea salt}', 50);

CREATE TEMP TABLE seed_root (root text, vendors bigint[], brands text[]) ON COMMIT DROP;
INSERT INTO seed_root VALUES
 ('clothing',    '{1,2}', '{Northwind,Harbor & Pine,Alder,Kestrel,Fieldstone}'),
 ('electronics', '{3,4}', '{Voltra,Sonora,Pixelite,Arcwave,Lumen}'),
 ('home',        '{5,6}', '{Hearthline,Casa Nova,Oakridge,Copperleaf}'),
 ('sports',      '{7,2}', '{Summit,Trailhead,Apex,Ridgeback}'),
 ('beauty',      '{8,6}', '{Glow,Verdant,Lumiere,Petal & Stone}');

-- Variant axes per kind: axis name, values, price step per value (cents).
CREATE TEMP TABLE seed_kind (kind text, axis text, vals text[], step int, with_color boolean) ON COMMIT DROP;
INSERT INTO seed_kind VALUES
 ('apparel', 'size',    '{XS,S,M,L,XL,XXL}', 0, true),
 ('shoe',    'size',    '{38,39,40,41,42,43,44,45}', 0, true),
 ('color',   NULL,      NULL, 0, true),
 ('storage', 'storage', '{64 GB,128 GB,256 GB,512 GB,1 TB}', 10000, true),
 ('rug',     'size',    '{80 x 150 cm,120 x 180 cm,160 x 230 cm,200 x 300 cm,250 x 350 cm}', 6000, false),
 ('volume',  'size',    '{30 ml,50 ml,100 ml,200 ml}', 700, false),
 ('weight',  'weight',  '{2 kg,4 kg,6 kg,8 kg,10 kg,12 kg,16 kg}', 1500, false),
 ('none',    NULL,      NULL, 0, false);

CREATE TEMP TABLE seed_words (adjectives text[], colors text[], phrases text[], closers text[],
                              tags text[], review_titles text[], review_bodies text[],
                              first_names text[], last_names text[]) ON COMMIT DROP;
INSERT INTO seed_words VALUES (
 '{Classic,Essential,Premium,Everyday,Urban,Nordic,Heritage,Modern,Signature,Vintage,Studio,Pro,Ultra,Coastal,Alpine,Luxe,Eco,Smart,Compact,Artisan}',
 '{Black,White,Navy,Grey,Olive,Burgundy,Sand,Sky Blue,Forest Green,Charcoal,Red,Blue}',
 '{is built for everyday use,brings together comfort and durability,was designed with simplicity in mind,is one of our customer favorites,is made to last for years,balances performance and value,looks as good as it works}',
 '{Ships within 2 business days.,Backed by a 30-day return policy.,Free shipping on orders over $50.,Covered by a 2-year warranty.,Packed in recycled materials.}',
 '{new-arrival,bestseller,sale,eco-friendly,organic,handmade,limited-edition,gift-idea,premium,vegan,waterproof,wireless,recycled,staff-pick,free-shipping,made-in-usa,fair-trade,lightweight,travel,classic}',
 '{Terrible,Disappointing,It is okay,Really good,Absolutely love it}',
 '{Did not live up to the description.,Not great for the price.,Does the job. Nothing special.,Good quality and arrived quickly.,Exactly what I was looking for. Would buy again.,Excellent value and beautifully made.}',
 '{Emma,Liam,Olivia,Noah,Ava,Mateo,Sofia,Lucas,Mia,Ethan,Amara,Yuki,Chen,Priya,Omar,Lena,Jonas,Chloe,Diego,Hana}',
 '{Smith,Garcia,Nguyen,Müller,Rossi,Kim,Patel,Johnson,Silva,Tanaka,Cohen,Dubois,Okafor,Larsen,Novak,Haddad,Brown,Lopez,Ivanova,Walker}'
);

INSERT INTO tags (id, slug, name)
SELECT i, t, initcap(replace(t, '-', ' '))
  FROM seed_words, unnest(tags) WITH ORDINALITY AS u(t, i)
 ORDER BY i;

INSERT INTO attributes (id, slug, name, type, position) VALUES
 (1, 'brand',          'Brand',          'choice', 0),
 (2, 'color',          'Color',          'choice', 1),
 (3, 'size',           'Size',           'choice', 2),
 (4, 'material',       'Material',       'text',   3),
 (5, 'storage',        'Storage',        'choice', 4),
 (6, 'weight',         'Weight',         'choice', 5),
 (7, 'warranty_years', 'Warranty (years)', 'number', 6),
 (8, 'waterproof',     'Waterproof',     'boolean', 7);
