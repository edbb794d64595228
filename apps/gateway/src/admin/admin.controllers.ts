import { Body, Controller, Get, HttpCode, Inject, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from './admin.guard';
import {
  CreateOfferDto,
  CreatePartnerDto,
  CreatePublisherDto,
  UpdateOfferDto,
  UpdatePartnerDto,
  UpdatePublisherDto,
} from './admin.dto';
import { CatalogAdminService } from './catalog-admin.service';

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin/offers')
export class OffersAdminController {
  constructor(@Inject(CatalogAdminService) private readonly admin: CatalogAdminService) {}

  @Post()
  @ApiOperation({ summary: 'Create an offer (409 if the id exists)' })
  create(@Body() dto: CreateOfferDto) {
    return this.admin.createOffer(dto);
  }
  @Get() list() {
    return this.admin.list('offer');
  }
  @Get(':id') get(@Param('id') id: string) {
    return this.admin.get('offer', id);
  }
  @Patch(':id')
  @ApiOperation({ summary: 'Change some fields of an offer' })
  update(@Param('id') id: string, @Body() dto: UpdateOfferDto) {
    return this.admin.updateOffer(id, dto);
  }
  @Post(':id/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause: clicks answer 404 until resumed' })
  pause(@Param('id') id: string) {
    return this.admin.setStatus('offer', id, 'paused');
  }
  @Post(':id/resume') @HttpCode(200) resume(@Param('id') id: string) {
    return this.admin.setStatus('offer', id, 'active');
  }
}

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin/publishers')
export class PublishersAdminController {
  constructor(@Inject(CatalogAdminService) private readonly admin: CatalogAdminService) {}

  @Post() create(@Body() dto: CreatePublisherDto) {
    return this.admin.createPublisher(dto);
  }
  @Get() list() {
    return this.admin.list('publisher');
  }
  @Get(':id') get(@Param('id') id: string) {
    return this.admin.get('publisher', id);
  }
  @Patch(':id') update(@Param('id') id: string, @Body() dto: UpdatePublisherDto) {
    return this.admin.updatePublisher(id, dto);
  }
  @Post(':id/pause') @HttpCode(200) pause(@Param('id') id: string) {
    return this.admin.setStatus('publisher', id, 'paused');
  }
  @Post(':id/resume') @HttpCode(200) resume(@Param('id') id: string) {
    return this.admin.setStatus('publisher', id, 'active');
  }
}

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin/partners')
export class PartnersAdminController {
  constructor(@Inject(CatalogAdminService) private readonly admin: CatalogAdminService) {}

  @Post()
  @ApiOperation({ summary: 'Create a partner; secrets and tokens are write-only' })
  create(@Body() dto: CreatePartnerDto) {
    return this.admin.createPartner(dto);
  }
  @Get() list() {
    return this.admin.list('partner');
  }
  @Get(':id') get(@Param('id') id: string) {
    return this.admin.get('partner', id);
  }
  @Patch(':id')
  @ApiOperation({
    summary: 'Change fields; auth replaces the whole auth block (rotation: send both secrets)',
  })
  update(@Param('id') id: string, @Body() dto: UpdatePartnerDto) {
    return this.admin.updatePartner(id, dto);
  }
  @Post(':id/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause: postbacks answer 403 until resumed' })
  pause(@Param('id') id: string) {
    return this.admin.setStatus('partner', id, 'paused');
  }
  @Post(':id/resume') @HttpCode(200) resume(@Param('id') id: string) {
    return this.admin.setStatus('partner', id, 'active');
  }
}
